// Package vertex adapts Vertex AI (provider type vertex): Google's Gemini
// models and Anthropic's Claude models served by a Google Cloud project in
// one location, with OAuth 2.0 access tokens.
//
// It is a combination, not a new protocol: the Gemini models go through
// the gemini package's translation and transport (gemini.Config.ModelsURL,
// RequestHeader and PredictEmbeddings), the Claude models through the
// anthropic package's (anthropic.Config.URL, Body and RequestHeader), and
// the tokens are kept by provider.Tokens.
//
// # URLs
//
// The host is aiplatform.googleapis.com for the location "global" (the
// default, as in the Google Gen AI SDK), aiplatform.{us,eu}.rep.googleapis.com
// for the multi-regions us and eu, and {location}-aiplatform.googleapis.com
// for a region; base_url replaces https://{host} (a Private Service
// Connect endpoint). Under {base}/v1/projects/{project}/locations/{location}:
//
//   - publishers/google/models/{model}:generateContent and
//     :streamGenerateContent?alt=sse for Gemini models, :predict for text
//     embedding models;
//   - endpoints/{id}:generateContent (and the others) for a tuned model,
//     named in a target as "endpoints/{id}";
//   - publishers/anthropic/models/{model}:rawPredict and :streamRawPredict
//     for Claude models, count-tokens:rawPredict for their token counts.
//
// The publisher of a target is chosen by its model id: an id that starts
// with "claude" is Anthropic's (Vertex AI names Claude models so:
// claude-sonnet-4@20250514, claude-opus-4-1@20250805), "endpoints/..." is a
// tuned model's endpoint, any other id is Google's. The id is sent as one
// escaped path segment, "@" kept as it is (a valid path character), so
// that no id reaches another path or adds a query.
//
// # Authentication
//
// credentials (the JSON of a key file) or credentials_file (its path)
// holds a service account key (type service_account: its private key
// signs a JWT bearer grant, RFC 7523, sent to the file's token_uri) or
// gcloud's user credentials (authorized_user: a refresh token). Other
// types are refused: external_account may run a command or reach another
// token service named by the file. With neither, Application Default
// Credentials are used (GOOGLE_APPLICATION_CREDENTIALS, gcloud's file,
// then the metadata server), read by golang.org/x/oauth2/google. The scope
// is https://www.googleapis.com/auth/cloud-platform; the token goes as
// Authorization: Bearer.
//
// Tokens live an hour. provider.Tokens keeps the current one: a request
// reads it without waiting; from five minutes before its expiry one token
// request starts in the background while requests go on with the current
// token; a request waits only when there is no token valid for 30 more
// seconds (the first request, or after the token endpoint failed for a
// whole token's life). The oauth2 token sources cache a token until ten
// seconds before its expiry, so each refresh reads the credentials anew
// and gets a new token; the service account flow posts without a
// context, so the token client carries a 30 second timeout. A failed
// token request is an upstream error with status 401, which sends the
// request on to another target; its cause, kept for the logs, is clipped,
// and the public message names nothing of the answer. The current token
// is redacted from error messages.
//
// # Quirks
//
// Read from the Vertex AI REST reference (v1,
// projects.locations.publishers.models generateContent,
// streamGenerateContent and predict; "Text embeddings API"; "Use Claude
// models" of the partner models guide), the Google Gen AI Go SDK
// (google.golang.org/genai v1.77.0: client.go, models.go, transformer.go)
// and the Anthropic Go SDK's vertex package (v1.84.0), 2026-12:
//
//   - Gemini on Vertex takes the Gemini API's GenerateContentRequest and
//     answers its GenerateContentResponse (with createTime and, in
//     usageMetadata, trafficType and per-modality details, not read).
//     Every content the adapter sends has its role (user or model), which
//     Vertex requires. The fields the SDK marks as not supported on
//     Vertex (willContinue, partMetadata, enhanced civic answers, server
//     side tool invocations) are none the adapter sends. Safety blocks
//     (finishReason SAFETY, blockReason) are content_filter, and
//     thoughtsTokenCount and cachedContentTokenCount count as on the
//     Gemini API (see package gemini). cachedContent names a resource of
//     the project, projects/{p}/locations/{l}/cachedContents/{id}.
//   - Embeddings are not embedContent but :predict with {"instances":
//     [{"content", "task_type"}], "parameters": {"outputDimensionality"}},
//     answered {"predictions": [{"embeddings": {"values", "statistics":
//     {"token_count"}}}]}, the token counts being the usage. At most 250
//     inputs a request; gemini-embedding-001 takes one instance a request,
//     so a gemini-embedding model's inputs go one request each. An OpenAI
//     client's taskType goes as task_type.
//   - Claude on Vertex takes Anthropic's Messages request with
//     anthropic_version "vertex-2023-10-16" in the body and no model (the
//     URL names it); the stream is Anthropic's event stream, the answer
//     Anthropic's message. The anthropic-version and anthropic-beta
//     headers still go, as Anthropic's SDK sends them. count-tokens is a
//     model of its own: the count's body keeps its model.
//   - Errors of Vertex itself (401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
//     404, 429 RESOURCE_EXHAUSTED) come in Google's shape {"error": {code,
//     message, status}} for either publisher; a Claude model's own errors
//     come in Anthropic's. Both parsers read error.message.
//
// The provider is a provider.ModelForwarder: an Anthropic client's body to
// a Claude model is forwarded with the model removed and anthropic_version
// set, its events handed back as they came; a body for a Gemini model
// goes through the canonical model. It is a provider.TokenCounter: Claude
// models count upstream, the others are estimated. It lists no models.
//
// # Lifetime
//
// A Provider, and the token it holds, lives as long as the config
// snapshot that built it.
package vertex
