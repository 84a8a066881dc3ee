// Package mistral adapts Mistral AI's API (La Plateforme,
// https://api.mistral.ai/v1): chat completions and embeddings.
//
// Mistral's wire format is OpenAI's Chat Completions with differences, so
// translation reuses internal/protocol/openai and this package adds only
// the differences, on both sides of it; transport is provider.Upstream and
// auth a bearer key, as for OpenAI. It is a package of its own rather than
// a type of the openai adapter because the differences are not defaults:
// the request must be rewritten (tool call ids, field names, fields left
// out) and the answer too (finish reasons, content chunks), and an OpenAI
// client's body cannot be forwarded as it is. So this adapter is no
// provider.Forwarder: every call goes through the canonical request.
//
// Reference: Mistral's OpenAPI specification ("Mistral AI API", version
// 1.0.0, openapi.yaml of github.com/mistralai/platform-docs-public at commit
// 222f4ba, 2026-08-21), schemas ChatCompletionRequest, ChatCompletionResponse,
// CompletionChunk, ToolCall, ToolMessage, UsageInfo, EmbeddingRequest and
// EmbeddingResponse. What it says, and what the adapter does about it:
//
//   - The request schema takes no member it does not list
//     (additionalProperties: false). So the request carries no
//     stream_options (a stream's last chunk carries the usage unasked), no
//     max_completion_tokens (it goes as max_tokens), and no user, top_k,
//     logit_bias, logprobs or top_logprobs: those are left out and reported
//     as dropped, or refused under server.unsupported_params: refuse. An
//     OpenAI client's extra members go upstream only when Mistral's schema
//     has them (safe_prompt, random_seed, prompt_mode, prediction,
//     guardrails, prompt_cache_key); others are dropped the same way.
//   - The seed is random_seed.
//   - reasoning_effort takes only "high" and "none"; another value is
//     dropped.
//   - tool_choice takes "auto", "none", "any", "required" or a named
//     function: OpenAI's values go as they are.
//   - Tool call ids: Mistral refuses a tool call id that is not nine
//     characters of a-z, A-Z, 0-9 with a 400, "Tool call id was ... but
//     must be a-z, A-Z, 0-9, with a length of 9." The specification does
//     not state the rule; the answer is quoted in public bug reports
//     (github.com/nearai/ironclaw issue 1241, 2026-03). Every other id, in an assistant message's
//     tool_calls and in a tool message's tool_call_id alike, is replaced by
//     nine characters derived from a SHA-256 of it (ToolCallID), so that a
//     call still pairs with its result. Mistral's own ids, which clients
//     send back, pass unchanged.
//   - Finish reasons are stop, length, model_length, error and tool_calls.
//     model_length (the context window is full) is reported as length;
//     error means the generation failed, and is an upstream error (a 502 to
//     a unary call, an in-band error ending a stream), never a short answer
//     passed off as complete. There is no content_filter.
//   - An assistant message's content may be an array of chunks: the text
//     of its text chunks is the answer, and that of its thinking chunks the
//     reasoning. Function arguments may be an object instead of a string:
//     they are taken as its JSON text.
//   - Usage is prompt_tokens, completion_tokens and total_tokens, with
//     prompt_tokens_details.cached_tokens, as OpenAI's (UsageInfo also has
//     num_cached_tokens and prompt_audio_seconds, which are not read).
//   - Images are image_url content parts, as OpenAI's, with a URL or a
//     data: URL.
//   - Errors: a request the schema refuses is a 422 with FastAPI's
//     {"detail":[{"loc","msg","type"}]}; other errors are
//     {"object":"error","message","type","param","code"}. Both are read for
//     the message (decodeErrorMessage), and a 200 body holding an error
//     object is an upstream error.
//   - Embeddings take model, input (a string or strings), output_dimension
//     (OpenAI's dimensions), output_dtype and encoding_format; the answer is
//     OpenAI's list of embeddings.
//
// Hostile answers are handled as by the openai adapter: bounded bodies,
// checked JSON, credentials redacted, idle streams aborted.
package mistral
