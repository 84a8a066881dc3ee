// Package responses is OpenAI's Responses API wire format (POST
// /v1/responses and its events) and its pure translation to and from the
// canonical llm model, the same shape as package openai and package
// anthropic: decode a request into an llm.ChatRequest, encode the chunks of
// any upstream as a response object or as the typed stream events.
//
// The gateway serves the API to every model. An OpenAI upstream receives the
// body as it is (its Protocol is forwarded natively by the OpenAI provider);
// every other upstream receives the canonical request this package decodes.
// Conversation state (store, previous_response_id) is the server's: it
// expands a previous response into input items before this package sees the
// body, so translation knows nothing of storage.
//
// # Requests
//
// DecodeRequest is strict, because what it cannot translate would otherwise
// be silently lost: unknown top-level fields, built-in tools (web_search,
// file_search, mcp, ...), item types other than message, function_call,
// function_call_output and reasoning, input_file parts and images by
// file_id are refused with a 400 naming the field. So are background,
// conversation and prompt, which need state the gateway does not keep, and
// item_reference, which the server resolves before decoding. Accepted
// fields that change nothing for a non-OpenAI upstream (include values of
// built-in tools, max_tool_calls, safety_identifier, prompt_cache_key,
// service_tier, text.verbosity, reasoning.summary) are kept in Request.Echo
// so that the response repeats them.
//
// The input becomes messages: instructions first as a developer message;
// the items of one model turn (reasoning, assistant messages, function
// calls), which arrive as consecutive items, fold into one assistant
// message; each function_call_output is a tool message. A reasoning item is
// a canonical thinking part whose Text is its summary texts (joined by a
// blank line) and whose Signature is its encrypted_content, so an Anthropic
// upstream gets back the thinking block, with its signature, that it
// produced: the encoder writes a thinking part as a reasoning item with one
// summary part holding its text and, when the request includes
// reasoning.encrypted_content, its signature as encrypted_content. A
// redacted thinking block is a reasoning item with no summary whose
// encrypted_content is the block's data, and is decoded back as one.
//
// # Responses and events
//
// EncodeResponse and StreamEncoder share one builder, so a response stored
// from a stream is the bytes EncodeResponse gives for the same content.
// Output item ids derive from the response id and the item's position
// (msg_<id>_<n>, rs_<id>_<n>, fc_<id>_<n>); a tool call without an upstream
// id gets call_<id>_<n> as its call_id. The response repeats the request's
// fields as sent, with the reference's defaults when absent (tools [],
// tool_choice "auto", parallel_tool_calls true, temperature and top_p 1,
// text {"format":{"type":"text"}}, truncation "disabled", metadata {}).
// output_text, the SDKs' concatenation of the output's text, is not part of
// the wire object and is not written.
//
// The stream is the reference's (openai-go v3 ResponseStreamEventUnion and
// the spec's streaming example): "event: <type>" and "data: <json>" lines
// per event, sequence_number from 0, and no "[DONE]" after the terminal
// event. A failure mid-stream is a response.failed event whose response has
// status failed and an error whose code is one of the reference's
// ResponseErrorCode values (rate_limit_exceeded, invalid_prompt,
// server_error) with the error's client-safe message; the separate "error"
// event of the reference, for a stream that fails without a response, is
// not sent.
//
// # Lifetimes
//
// Nothing here outlives a call but a StreamEncoder, which lives for one
// response stream.
package responses
