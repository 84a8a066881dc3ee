// Package ratelimit is the pipeline stage that admits calls against their
// rate limits (package limits): the caller's key and tenant, and the
// model asked for.
//
// # What a call reserves
//
// Every limit counts the request once against requests per minute and
// holds one concurrency slot until the call ends: the response sent, the
// stream ended, or the client gone. Against tokens per minute a call
// reserves, before it is sent, its prompt tokens plus the largest answer
// it allows: max_completion_tokens, else max_tokens, else
// DefaultMaxTokens (4096, the answer cap the gateway itself sends an
// Anthropic upstream when the client sets none). Prompt tokens are
// counted by package tokens for the provider type and upstream model of
// the model's first target (exact for OpenAI models, an estimate for
// others); an embeddings call reserves the estimate of its raw input. The
// prompt is counted only when a tokens-per-minute limit, a budget or a
// cost cap applies, and once per call and model (Tokens keeps the count on
// the call, so the cost cap stage's is reused here).
//
// When the call ends the reservation is reconciled with the usage the
// upstream reported (prompt plus completion tokens); when it reported
// none, the reservation stands. A call that failed before any upstream
// answered gives its tokens back, but its request still counts.
//
// # Refusals
//
// A call over a limit gets 429 rate_limit_exceeded with Retry-After (the
// seconds until it could pass, rounded up) and a message naming the limit
// (the key's, the tenant's or the model's; requests per minute, tokens per
// minute or concurrent requests). A call that needs more tokens than a
// tokens-per-minute limit holds at all can never pass: it gets 429 too,
// without Retry-After, and a message saying so — 429 rather than 400
// because the request itself is valid and passes under a larger limit.
//
// # Upstream targets
//
// A target's own limits (models[].targets[].limits) are taken by the
// router for each attempt, under "target:<provider>/<upstream model>",
// with the tokens this stage reserved (pipeline.Call.ReservedTokens,
// counted when the requested model has a target with a tokens-per-minute
// limit; a fallback model's targets reserve what the requested model's
// call counted, zero when it counted nothing, and are charged the real
// usage when the call ends). A target at its limit is skipped like one
// cooling down; with every target at its limit the model's fallbacks are
// tried, and without one the call gets 429 with the shortest wait.
//
// # Budgets
//
// The caller's budgets (auth.Principal.Budgets: its key's, team's and
// tenant's) are reserved in the same Acquire, with the most the call
// could cost: its prompt and largest answer priced at the highest rate of
// every target and fallback that may serve it (Options.Estimate). A model
// whose cost cannot be bounded that way (one of them has no price) is
// refused to a key with a budget: 403 model_not_allowed, saying so. A
// call a budget refuses gets 429 budget_exceeded naming the budget, what
// it has spent and holds, and, but for a total budget, Retry-After until
// its period starts over. The reservation goes on the call
// (pipeline.Call.Spend); the server settles it with the call's cost when
// the call ends, and this stage with nothing when no upstream answered.
//
// While a shared limit store (Redis) does not answer and the limiter fails
// closed, limited calls get 503 service_unavailable; calls under no limit
// pass.
package ratelimit
