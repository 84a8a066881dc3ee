// Package azure adapts Azure OpenAI (provider type azure_openai): OpenAI's
// models served from an Azure resource, which speaks OpenAI's Chat
// Completions and Embeddings wire format behind its own URLs and its own
// authentication.
//
// # The split
//
// Of the three parts DESIGN keeps apart, translation and transport are
// OpenAI's: requests are encoded by internal/protocol/openai and sent, read,
// streamed, checked and redacted by the openai adapter, which a Provider
// here wraps (a named field, so that the adapter's model listing is not
// offered: what a request names on Azure is a deployment, which no data
// plane list reports). What is Azure's lives here: the URL of each
// operation (openai.Config.URL) and the upstream auth, an api-key header
// or a Microsoft Entra token (openai.Config.RequestHeader). A dialect flag
// inside the openai package would have mixed Azure's auth, and its SDK,
// into every OpenAI provider.
//
// # URLs and api-version
//
// base_url is the resource endpoint, https://NAME.openai.azure.com (or a
// Foundry resource's https://NAME.cognitiveservices.azure.com), without a
// path. A target's model is the deployment name. Two surfaces, chosen by
// api_version:
//
//   - dated (the default): POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V
//     and .../embeddings, the deployment path-escaped so that no model name
//     reaches another path. V defaults to DefaultAPIVersion, 2024-10-21,
//     the latest GA release of the dated data plane inference API (Azure
//     OpenAI REST API reference, learn.microsoft.com,
//     azure/ai-services/openai/reference: "Data plane - inference, latest
//     GA release 2024-10-21"); a preview version such as 2025-04-01-preview
//     may be configured for newer fields. The body's model is left as the
//     request had it; Azure takes the deployment from the path.
//   - v1 (api_version "v1"): POST {endpoint}/openai/v1/chat/completions and
//     /embeddings, with no api-version and the deployment as the body's
//     model, as OpenAI's own API takes it (the v1 API, GA since August 2025:
//     learn.microsoft.com azure/ai-foundry/openai/api-version-lifecycle).
//
// Requests are sent as the openai_compatible type sends them: the output
// cap stays max_tokens unless the client sent max_completion_tokens, and
// thinking is not turned into reasoning_effort, since a deployment's name
// says nothing reliable about the model behind it.
//
// # Authentication
//
// With api_key, the key goes in the api-key header, never as a bearer
// token. With entra, a Microsoft Entra ID application's client secret gets
// tokens for the scope https://cognitiveservices.azure.com/.default
// (azidentity.ClientSecretCredential of the Azure SDK for Go, pinned in
// go.mod), sent as Authorization: Bearer. Tokens are kept by provider.Tokens:
// a request reads the current token without waiting; once it is due for
// refresh (the SDK's RefreshOn when it gives one, else five minutes before
// expiry, the margin the SDK keeps, or halfway through the life of a short
// token) one token request starts in the background and requests go on
// with the current token meanwhile. Requests wait only when there is no
// token valid for 30 more seconds (the first request, or after the token
// endpoint failed for a whole token's life), and then all wait on the
// same token request, bounded by 30 seconds and by their own context. A
// failed token request is an upstream error with status 401, a fault of
// the target that sends the request on to another; its cause, kept for
// the logs, has the client secret redacted, and the public message names
// nothing of the answer. After a failure or a refresh that brought no new
// token, no other is made for 10 seconds. The client secret is redacted
// from everything the upstream sends back, and the current token from
// error messages. authority_host points the credential at a sovereign
// cloud's authority (instance discovery off).
//
// # Quirks
//
//   - Content filtering. A filtered prompt is refused with 400 and
//     error.code "content_filter" (innererror.code
//     "ResponsibleAIPolicyViolation", with content_filter_result): it maps
//     to the content-policy error kind (provider.refineKind), which is not
//     retried and leads to a model's content_policy_fallbacks; an OpenAI
//     client gets Azure's code as it came, content_filter, as it gets an
//     OpenAI upstream's, and an Anthropic client invalid_request_error. A filtered completion ends
//     with finish_reason "content_filter", the gateway's content_filter
//     finish (refusal for Anthropic clients). The annotations,
//     prompt_filter_results and per-choice content_filter_results, are
//     kept in forwarded answers and dropped from translated ones (content
//     filtering concept page, learn.microsoft.com
//     azure/ai-services/openai/concepts/content-filter).
//   - Streams open with an event whose choices are empty and which carries
//     only prompt_filter_results (id, model and created empty or 0); it
//     yields a chunk with no choice.
//   - Errors have code and message and often no type; status codes are
//     mapped as OpenAI's are. 404 DeploymentNotFound is a missing
//     deployment.
//   - Rate limits: x-ratelimit-remaining-requests and
//     x-ratelimit-remaining-tokens, OpenAI's header names, feed headroom
//     steering as OpenAI's do (provider.ReportHeadroom); a 429 carries
//     Retry-After (and retry-after-ms), honoured as OpenAI's.
package azure
