// Package payloadlog decides whose request and response bodies are logged
// and makes what is logged of them safe: cut to a bound, valid UTF-8, and
// redacted of secrets.
//
// Bodies are never logged unless the configuration lists the caller's
// tenant (logging.payloads.tenants). A Policy is compiled once per
// configuration snapshot and is snapshot state: a reload that removes a
// tenant stops the logging of its requests that arrive after it, and a
// request keeps the policy of the snapshot it arrived under. Policy holds
// no process state.
//
// Redaction replaces with "[redacted]" what looks like a credential,
// wherever it is in the text: API keys by their well-known shapes (OpenAI
// and the gateway's own sk-..., Anthropic's sk-ant-..., AWS access key IDs,
// Google API keys, GitHub and Slack tokens, Stripe keys), the token of an
// Authorization scheme (Bearer, Basic), JWTs, PEM private key blocks (to
// the end of the text when the block's end is cut off), the password of a
// URL's user info, the value of a password, secret, api_key or
// access_token field, and every secret of the configuration (provider
// keys, static virtual keys, tokens) of at least MinSecret bytes, also in
// the forms JSON escaping gives them. The patterns are RE2 regular
// expressions (package regexp), whose time is linear in the text; the text
// is bounded before it is searched: at most the logged bound plus
// Lookahead bytes, so that a secret that crosses the cut is still seen
// whole. Redaction is best effort: a secret of no known shape that the
// configuration does not hold (a password in a sentence) is logged as it
// is, which is why the logging is an opt-in per tenant.
package payloadlog
