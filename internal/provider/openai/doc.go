// Package openai adapts upstreams that speak the OpenAI Chat Completions and
// Embeddings API: OpenAI itself and the many servers that copy its wire
// format (vLLM, OpenAI-compatible endpoints). The provider types differ only
// in their defaults, applied by the configuration; the adapter is one.
//
// Translation lives in internal/protocol/openai; this package only moves
// bytes: it builds the upstream request (always BaseURL plus a fixed path, so
// nothing in a client's request can choose the host), maps upstream failures
// to llm errors without leaking credentials, and turns the upstream's answer
// into an llm.Stream. A stream that ends without OpenAI's [DONE] marker is an
// error, never a short success, and a stream idle for longer than the
// configured limit is aborted.
//
// For provider type openai only, a translated request is adjusted to what
// OpenAI's own models take: the output cap is sent as max_completion_tokens,
// and an extended thinking setting (from an Anthropic client) becomes
// reasoning_effort when the model is a reasoning model
// (protocol.ReasoningModel, protocol.ReasoningEffortFor); gpt-4o and other
// models answer 400 to reasoning_effort, so they get none and the thinking
// setting is dropped. An OpenAI client's own reasoning_effort is sent as it
// is to any model.
//
// Forward is the fast path for clients that speak OpenAI already: the body
// goes upstream with only the model swapped and usage forced on, and the
// upstream's bytes come back untouched in Chunk.Raw, scanned for usage.
// Untouched but checked: a 200 body must be one JSON object with a
// "choices" array (embeddings: "data") and no "error" member, else it is an
// upstream error (502, retried), so that junk, an event stream or an error
// object is never passed off as a completion; and every answer, forwarded
// or decoded, has the provider's key and header values redacted
// (provider.Upstream.Redact).
//
// vLLM (type vllm; its OpenAI-compatible server, /v1/chat/completions) takes
// parameters of its own beside OpenAI's: top_k, min_p, repetition_penalty,
// guided_json and the other guided_* fields (structured_outputs in newer
// versions), chat_template_kwargs. They reach it unchanged on the fast path
// and through the canonical request alike (ChatRequest.Extra; top_k is a
// canonical field, so an Anthropic client's top_k reaches vLLM too), and
// the output cap stays max_tokens. Its reasoning text, "reasoning" in the
// message or delta ("reasoning_content" before v0.11), is the answer's
// thinking. TestVLLMParamsPassThrough and TestVLLMReasoning show both.
//
// The provider of type openai also forwards OpenAI's Responses API
// (responses.Protocol, provider.EndpointForwarder) to BaseURL +
// "/responses" (responses.go): a whole answer must be a response object
// (object "response", an output array) that did not fail; a stream is
// relayed event by event, each event's data in Chunk.Raw, and ends after
// response.completed or response.incomplete, whose usage (input_tokens,
// output_tokens, cached and reasoning tokens) is the stream's. An error
// event or response.failed inside the stream, or a stream that stops
// before a terminal event, is the upstream's error, as an error inside a
// chat stream is. Types openai_compatible and vllm are not forwarded there:
// vLLM serves /v1/responses only in its recent versions, and with a
// coverage of item types and include values that varies between versions,
// as other OpenAI-compatible servers do or do not, so their Responses
// requests are translated to Chat Completions, which they all serve. Azure
// OpenAI (Config.URL) is translated too.
//
// Forward also takes OpenAI's legacy text completions
// (protocol.CompletionsProtocol, provider.EndpointForwarder): the body goes
// to BaseURL + "/completions" the same way, and a 200 body must be a
// "text_completion" object with a "choices" array. Completions have no
// canonical form and are never translated.
//
// An upstream that speaks this wire format behind other URLs and another
// authentication reuses the adapter through Config.URL (the URL of an
// operation for a model, in place of BaseURL plus a fixed path) and
// Config.RequestHeader (headers set per request, such as a refreshed bearer
// token): Azure OpenAI does, in internal/provider/azure.
package openai
