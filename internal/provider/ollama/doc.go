// Package ollama adapts Ollama's native API (http://127.0.0.1:11434 by
// default): POST /api/chat and POST /api/embed.
//
// Ollama serves two APIs: its own, and an OpenAI-compatible one under /v1.
// This adapter speaks the native one, because the compatible endpoint is
// lossy where it matters to a gateway. docs/openai.md calls it
// experimental and lists tool_choice, logit_bias, user, n and logprobs as
// unsupported; its requests have no place for Ollama's model options
// (num_ctx, num_predict, top_k, ...) or keep_alive, nor for a thinking
// level; its images are data: URLs only; and its usage reports a cached
// prompt as 0 tokens, as the native counts do. The native API carries
// all of it: options, keep_alive, thinking through think, images as base64
// arrays, tool calls with arguments as objects, done_reason, and usage as
// prompt_eval_count and eval_count in every answer, streamed or not,
// without asking. A server reached through the compatible endpoint is an
// openai_compatible provider; this type is for the native one. It is no
// provider.Forwarder: no client speaks Ollama's protocol to the gateway.
//
// Transport is provider.Upstream, and a stream a provider.EventStream opened
// with OpenNDJSON: Ollama streams application/x-ndjson, one JSON object a
// line, not Server-Sent Events. Ollama takes no credentials; an API key,
// when configured (Ollama behind a proxy that checks one), is sent as a
// bearer token.
//
// Reference: Ollama's API reference, docs/api.md of github.com/ollama/ollama
// at commit 01e52d2 (sections "Generate a chat completion", "Generate
// Embeddings", "Conventions"), and docs/openai.md at commit 000ce02 for the
// compatible endpoint, read 2026-12. think and message.thinking are from
// Ollama's announcement of thinking (ollama.com/blog/thinking, 2025-05-30);
// tool_name, the think levels and tool call ids are later additions to the
// reference (docs.ollama.com/api/chat), known here from the client
// libraries that use them rather than from a capture, and the adapter
// works without them (a call with no id gets one; an older server ignores
// tool_name). What it says, and what the adapter does about it:
//
//   - Messages: role (system, user, assistant, tool), content (a string),
//     thinking, images (base64 strings, no media type, no URL), tool_calls
//     and tool_name. Text parts are joined; developer messages go as
//     system; thinking parts go as thinking; inline images as images. An
//     image given by URL is refused with a 400: Ollama fetches nothing.
//   - A tool result names its function (tool_name), not a call id: the
//     name is that of the earlier call with the result's tool_call_id.
//     Tool call arguments are a JSON object, not a string: a call whose
//     arguments are not one is refused with a 400. Ollama before 0.12
//     gives its calls no id; each then gets a random "call_..." id, and
//     every answer a random "chatcmpl-..." id, as Ollama gives none.
//   - Tools are OpenAI's function tools. There is no tool_choice: "none"
//     is kept by sending no tools; "required" or a named function is
//     dropped (x-llmgw-dropped-params), or refused under
//     server.unsupported_params: refuse.
//   - Sampling goes in options: temperature, top_p, top_k, seed,
//     presence_penalty, frequency_penalty, stop, and max_tokens as
//     num_predict. An OpenAI client's own options, keep_alive and think
//     members go upstream as they are (options under the translated ones).
//     There is no n above 1 (refused), logit_bias, logprobs, user, metadata
//     or parallel_tool_calls (dropped and named).
//   - response_format json_object is format "json", json_schema is format
//     with the schema.
//   - think is true, false or, for models with levels (gpt-oss), "low",
//     "medium" or "high": reasoning_effort goes as its level (none as
//     false, minimal as low, xhigh as high), Anthropic's thinking as the
//     level of its budget, or false when disabled. The thinking comes back
//     in message.thinking, read as reasoning. Only Ollama knows which of
//     its models think, and which take levels: a model without levels
//     refuses one with a 400 ("think value \"low\" is not supported for
//     this model"), and the request goes again with think true; a model
//     that does not think refuses think with a 400 ("\"<model>\" does not
//     support thinking"), and the request goes again without it, the
//     setting reported as dropped as it is toward any model without
//     reasoning (the refusal stands under server.unsupported_params:
//     refuse).
//   - Answers: {"model", "created_at", "message", "done", "done_reason",
//     durations in nanoseconds, "prompt_eval_count", "eval_count"}. A
//     stream is the same object a line, each with a piece of the message
//     (tool calls arrive whole, one line each), the last with "done": true
//     and the counts; a stream that ends without it is an error.
//   - done_reason is stop or length. A stop after tool calls is reported as
//     tool_calls, as Ollama does not say so. load and unload answer a
//     request with no messages: no generation took place, an upstream
//     error. An answer without done_reason (older servers) is stop.
//   - Usage is prompt_eval_count and eval_count; Ollama leaves
//     prompt_eval_count out when the whole prompt came from its cache,
//     which reads as zero. There are no cached-token counts.
//   - Errors are {"error": "message"} with a status: 400 for a request it
//     cannot read, 404 for a model not pulled, 500 when the model runner
//     fails, 503 when its queue is full (OLLAMA_MAX_QUEUE). A stream that
//     fails after its start sends an {"error": "..."} line, an upstream
//     error ending the stream; so is an answer with status 200 holding an
//     error member.
//   - Embeddings: /api/embed takes model, input (a string or strings; token
//     arrays are refused with a 400), dimensions, truncate, keep_alive and
//     options, and answers {"embeddings": [[...]], "prompt_eval_count"}.
//     OpenAI's base64 encoding_format is made from the floats, as
//     little-endian float32.
//
// Hostile answers: bodies are bounded (32 MiB a chat answer, 128 MiB
// embeddings), a stream line is at most 4 MiB, every answer and line is
// checked JSON (invalid JSON is an upstream error), credentials are
// redacted, and a stream silent for longer than the idle timeout is
// aborted, as for every upstream.
package ollama
