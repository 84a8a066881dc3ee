// Package openai holds the OpenAI Chat Completions, Embeddings and Models
// wire format and its pure translation to and from the canonical llm types.
//
// The same functions serve both sides of the gateway. The inbound surface
// decodes client requests (DecodeChatRequest, DecodeEmbedRequest) and encodes
// answers (EncodeChatResponse, AppendChunk, AppendError, EncodeEmbedResponse,
// EncodeModelList); the OpenAI-format upstream provider encodes its requests
// (EncodeChatRequest, EncodeEmbedRequest) and decodes what comes back
// (DecodeChatResponse, DecodeChunk, DecodeErrorMessage, DecodeEmbedResponse).
// Nothing here does I/O.
//
// Legacy text completions (CompletionsProtocol) have no canonical form:
// they are only forwarded. What the gateway needs of them is here too: the
// request's shape check, which also reads its prompt and output bound
// (CheckCompletionRequest), the text and identity of an answer
// (CompletionText, CompletionIdentity) and the usage event of a stream
// (AppendCompletionUsageChunk); usage is read with ScanUsage, as chat's.
//
// Decoding a client request is strict about types and lenient about
// unknowns: a wrong type or a missing field is an *llm.Error of kind
// InvalidRequest whose Param is the JSON path of the field (for example
// "messages[1].content"), while fields the canonical model does not know are
// kept raw in ChatRequest.Extra and Message.Extra and written back by
// EncodeChatRequest, so a new OpenAI parameter reaches an OpenAI upstream
// without a change here. The decoders set ExtraProtocol to Protocol on the
// request and its messages; the encoders write Extra, PartOther parts and
// non-function tools only when ExtraProtocol is Protocol, so a request that
// came in another protocol never brings that protocol's field names to an
// OpenAI upstream. Object tool choices the canonical model cannot
// express (allowed_tools, custom) are kept in Extra the same way.
//
// What an OpenAI upstream does not receive of an Anthropic request is never
// lost silently: CheckParams, called by the upstream adapter before
// encoding, applies AnthropicParams, one policy per field (dropped and
// named in x-llmgw-dropped-params, or refused with the error naming it), and
// the compatibility page is generated from that table.
//
// Choices made where the wire format and the canonical model differ:
//
//   - Request decoding is two passes: encoding/json validates the whole body
//     once (json.Valid, and json.Unmarshal for the message of a syntax
//     error), then a small splitter walks a copy of the body, member by
//     member, decoding each known member on its own. That gives precise error
//     paths and keeps unknown members intact, and is about three times
//     faster than running json.Unmarshal again at every level (which would
//     re-validate and copy each nested value). Responses and chunks, whose
//     shape is fixed, decode with plain json.Unmarshal into structs.
//   - Encoding appends bytes directly instead of building maps or structs
//     for encoding/json, so key order is fixed and AppendChunk, which runs
//     for every streamed event, allocates nothing beyond the growth of dst.
//   - Unknown keys inside a content part, other than cache_control, are not
//     kept; unknown keys of stream_options are not kept either, since
//     EncodeChatRequest always writes its own stream_options.
//   - stop is always encoded as an array; a single stop string decodes to a
//     one-element list.
//   - Thinking parts are never sent upstream (OpenAI has no reasoning input).
//     In responses and chunks they are written as "reasoning_content", and
//     "reasoning_content" from OpenAI-compatible upstreams (DeepSeek, vLLM)
//     decodes to a thinking part; in requests it is an ordinary unknown field.
//   - ChatRequest.Thinking is Anthropic's and is not encoded; top_k is
//     encoded when set, for the OpenAI-compatible servers that accept it.
//     The provider of type openai turns an enabled thinking budget into
//     reasoning_effort for OpenAI reasoning models only (ReasoningModel:
//     o1, o3, o4, gpt-5 and its versions but not -chat, codex-mini), since
//     gpt-4o and other models answer 400 to the field: budget_tokens under
//     4096 is low, under 16384 medium, else high (ReasoningEffortFor);
//     adaptive or disabled thinking sends none. "reasoning", the name newer
//     servers (vLLM, Groq, Ollama) give the reasoning text, decodes like
//     reasoning_content when it is a string and reasoning_content is absent.
//   - A json_schema response format of another protocol (Anthropic's
//     output_config.format, always strict there) is sent with the name
//     DefaultSchemaName when it has none, and with strict true only when
//     StrictSchema finds it inside OpenAI's strict subset (every object
//     closed with additionalProperties false and all its properties
//     required, no allOf, oneOf, not or if, at most 10 levels): OpenAI
//     refuses other strict schemas with a 400, and without strict it still
//     follows the schema, unconstrained. A strict function tool of another
//     protocol is treated the same way. An OpenAI client's own strict flags
//     are sent as they are.
//   - Tool calls of whole messages get Index set to their position, so that
//     llm.Accumulator keeps them apart.
//   - A chunk or response whose Raw holds an OpenAI payload is written as it
//     is; the decoders never set Raw themselves.
package openai
