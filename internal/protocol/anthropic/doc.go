// Package anthropic holds the Anthropic Messages wire format (POST
// /v1/messages, its Server-Sent Events stream, /v1/messages/count_tokens
// and the error body) and its pure translation to and from the canonical llm
// types, whose vocabulary is OpenAI's.
//
// The same functions serve both sides of the gateway. The inbound surface
// decodes an Anthropic client's requests (DecodeMessagesRequest,
// DecodeCountTokensRequest) and encodes answers from any upstream
// (EncodeMessagesResponse, StreamEncoder, AppendError, AppendStreamError,
// EncodeCountTokensResponse); an Anthropic upstream provider encodes its
// requests (EncodeMessagesRequest, EncodeCountTokensRequest, with the
// anthropic-version header Version) and decodes what comes back
// (DecodeMessagesResponse, StreamDecoder, DecodeErrorMessage, ScanUsage and
// UsageScanner on the fast path). Nothing here does I/O.
//
// Decoding a client request is strict about types and lenient about
// unknowns, like the openai package, whose JSON splitter and writers this
// package repeats: a wrong type or a missing field is an *llm.Error of kind
// InvalidRequest whose Param is the JSON path of the field. Unknown fields
// are kept in Extra with ExtraProtocol "anthropic" and written back only to
// an Anthropic upstream; ExtraProtocol also guards PartOther blocks and
// server tools, so that nothing of one protocol leaks into another's body.
//
// Requests, Anthropic to canonical and back:
//
//   - system (a string or text blocks) is a leading system message, one part
//     per block with its cache_control. Encoding hoists every system and
//     developer message, wherever it stands, into system blocks, in order; a
//     single uncached text is written as a string.
//   - A user message's tool_result blocks become tool messages (ToolCallID =
//     tool_use_id, content as parts; is_error and cache_control in the tool
//     message's Extra), and its other blocks user messages between them, in
//     the order sent: [text, tool_result, tool_result, text] is user, tool,
//     tool, user. Encoding turns tool messages back into tool_result blocks,
//     merges consecutive messages of one role into one message (Anthropic
//     wants alternating roles) and puts tool_result blocks first in a user
//     message, as Anthropic requires, the other blocks after them in order.
//     A conversation that does not start with a user turn (or has only
//     system messages) gets a user turn "." in front. Anthropic refuses
//     cache_control inside tool_result content, so a part's marker moves to
//     its tool_result block. Tool call ids with characters Anthropic refuses
//     (some OpenAI-compatible servers use "functions.name:0") have them
//     replaced by '_', the same way in tool_use and tool_result.
//   - An assistant message's tool_use blocks are its ToolCalls (Arguments =
//     the input compacted; "{}" for none), numbered by position. Encoding
//     writes thinking blocks first, then the other parts in order, then the
//     tool_use blocks; where a response interleaved text and tool_use, the
//     text comes first after a round trip. Arguments "" encode as {}; other
//     arguments that are no JSON object are an invalid request, since
//     Anthropic would refuse them.
//   - thinking {thinking, signature} and redacted_thinking {data} are
//     PartThinking and PartRedactedThinking, kept across turns. A thinking
//     part without a signature (reasoning of an OpenAI-compatible upstream)
//     is not sent to Anthropic, which rejects unsigned thinking.
//   - text blocks keep cache_control; their citations are dropped. Empty
//     text parts are not encoded (Anthropic rejects empty text blocks).
//     Images with a base64 or url source are llm.Image; any other block
//     (document, search_result, image with a file source, server tool
//     blocks) is a PartOther kept whole.
//   - Client tools (type absent or "custom") are function tools; their
//     unknown fields (defer_loading, input_examples, ...) keep the tool in
//     Raw for Anthropic upstreams. Server tools (web_search_20250305, ...)
//     keep their type and Raw. A function tool without parameters is sent
//     with an empty object schema, which Anthropic requires. A strict
//     function tool of another protocol has its schema rewritten by
//     OutputSchema, as strict tools must stay inside Anthropic's subset.
//   - tool_choice auto, any, tool{name}, none are auto, required,
//     function{name}, none; disable_parallel_tool_use is DisableParallel and
//     ParallelToolCalls false, and parallel_tool_calls false encodes as
//     disable_parallel_tool_use (on an auto choice when there was none).
//     tool_choice is written only with tools.
//   - max_tokens is MaxTokens. Encoding writes MaxOutputTokens, or
//     DefaultMaxTokens when the client set none (an OpenAI client may omit
//     it, Anthropic requires it), raised to budget_tokens+DefaultMaxTokens
//     when an enabled thinking budget would not fit under it.
//   - temperature and top_p are checked against Anthropic's range 0..1 on
//     decoding and clamped into it on encoding (OpenAI allows temperatures
//     up to 2); top_k, stop_sequences (Stop), stream and metadata.user_id
//     (User) map directly. thinking is kept raw in Thinking. OpenAI-only
//     settings (penalties, logit_bias, seed, n, logprobs, metadata) are not
//     sent.
//   - Reasoning: a request without its own thinking whose reasoning_effort
//     is set (an OpenAI client's) is sent thinking {"type":"enabled",
//     "budget_tokens":N}, N from the reasoning table below.
//   - Structured output: output_config.format (or the beta output_format),
//     {"type":"json_schema","schema":...}, decodes to a json_schema
//     ResponseFormat with Strict true (Anthropic's is always constrained),
//     named openai.DefaultSchemaName by the openai encoder, which sends strict true
//     only when the schema is inside OpenAI's strict subset (see
//     openai.StrictSchema); output_config stays in Extra for an Anthropic
//     upstream, effort and all. Back, a json_schema response_format becomes
//     output_config.format, its schema rewritten by OutputSchema into
//     Anthropic's subset as the official SDKs do (unsupported keywords such
//     as minimum or pattern move into the description, every object gets
//     additionalProperties false), unless the request has its own
//     output_config. json_object has no Anthropic equivalent.
//
// Reasoning table (EffortBudgets, ThinkingBudget), reasoning_effort to
// budget_tokens:
//
//	none             thinking off
//	minimal          1024 (Anthropic's minimum)
//	low              2048
//	medium           8192
//	high             16384
//	xhigh            32768
//	anything else    thinking off
//
// Anthropic wants budget_tokens below max_tokens and counts thinking against
// max_tokens. With no client limit, max_tokens is raised to
// budget+DefaultMaxTokens; under a client's limit the budget shrinks to half
// of it, and when that is below 1024 thinking stays off. Thinking also stays
// off when the request forces a tool (tool_choice required or a function),
// or answers tool calls of an assistant turn that has no signed thinking
// block (an OpenAI client cannot send one back): Anthropic refuses both with
// thinking; with thinking on, temperature, top_p
// and top_k are not sent, since Anthropic refuses them with thinking too. The
// way back, thinking to reasoning_effort for OpenAI reasoning models only, is
// openai.ReasoningEffortFor (budget under 4096 low, under 16384 medium, else
// high). Models that take only adaptive thinking ({"type":"adaptive"}) are
// not told apart: a client that wants adaptive thinking asks for it in the
// Messages API.
//
// Responses and usage:
//
//   - stop_reason end_turn, stop_sequence and pause_turn map to stop (a
//     paused server-tool turn is complete as far as another protocol can
//     tell), max_tokens and model_context_window_exceeded to length,
//     tool_use to tool_calls, refusal to content_filter; stop_sequence is
//     kept in Choice.StopSequence. Back: stop is end_turn, or stop_sequence
//     when the sequence is known; any response with tool calls is tool_use,
//     since Anthropic clients act on that reason.
//   - Usage: prompt tokens are input_tokens + cache_creation_input_tokens +
//     cache_read_input_tokens, CachedTokens the cache reads,
//     CacheCreationTokens the cache writes, completion tokens output_tokens,
//     ReasoningTokens output_tokens_details.thinking_tokens. Back,
//     input_tokens is prompt - cached - cache creation.
//   - A response's id is kept when it is a msg_ id; another upstream's id gets
//     a msg_ prefix, and a missing one a random msg_ id. Tool calls without
//     an id get a random toolu_ id so that the client can answer them.
//     Tool call arguments that are no JSON object encode as an empty input.
//
// Streams:
//
//   - StreamDecoder: message_start is a chunk with the role, id, model and
//     usage so far; a tool_use block start is a tool call delta whose Index
//     is the call's ordinal in the message (0, 1, 2), not the block index,
//     with its id and name, and each input_json_delta a delta of the same
//     Index; text_delta is text, thinking_delta thinking text,
//     signature_delta the thinking part's Signature; message_delta is the
//     finish reason with the final usage (input counts from message_start
//     unless restated, output cumulative); message_stop is io.EOF; an error
//     event is an *llm.Error (overloaded_error: upstream unavailable, 529;
//     rate_limit_error: rate limited, 429; api_error: upstream; timeout_error:
//     upstream timeout; only invalid_request_error relays its message).
//     Server tool blocks are gathered and emitted whole, input included, at
//     their content_block_stop; citations deltas are dropped.
//   - StreamEncoder writes the exact Anthropic sequence from chunks of any
//     upstream: message_start, then for each change of content a block
//     (text, thinking, tool_use; redacted thinking and kept blocks start and
//     stop at once) with its deltas, closed when the next one opens; a new
//     tool call index opens a new tool_use block. Finish, reason and usage
//     being known only at the end of an OpenAI stream, writes the
//     message_delta (with the input counts too, as Anthropic now does) and
//     message_stop. message_start states the input tokens even when the
//     upstream tells them only at the end (SetInputTokens: the caller's exact
//     count, else EstimateTokens), since some clients read them only there;
//     message_delta then carries the upstream's final count. On a failure
//     the caller writes an error event instead and never calls Finish.
//
// Token counting: EstimateTokens is a documented offline estimate for
// upstreams that cannot count (about four bytes of text per token plus
// fixed overheads); DecodeCountTokensRequest, EncodeCountTokensRequest and
// EncodeCountTokensResponse carry the count_tokens call itself.
//
// Fields of an OpenAI request that the Messages API has no equivalent for
// are never lost silently: CheckParams, called by the upstream adapter
// before encoding, applies OpenAIParams (dropped and named in
// x-llmgw-dropped-params, or refused with a 400 naming the field), the
// table the compatibility page is generated from.
package anthropic
