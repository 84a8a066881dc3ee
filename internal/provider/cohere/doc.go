// Package cohere adapts Cohere's v2 API (https://api.cohere.com): chat
// (POST /v2/chat, unary and streamed) and embeddings (POST /v2/embed).
//
// Cohere's protocol is its own, so the adapter translates the canonical
// request into it and the answers out of it with no other protocol in
// between; transport is provider.Upstream and auth a bearer key. No client
// speaks Cohere's protocol to the gateway, so it is no provider.Forwarder.
//
// Reference: Cohere's API reference, version 2 (docs.cohere.com/v2/reference
// chat, chat-stream and embed), and the types of Cohere's official Go SDK,
// generated from the same definition (github.com/cohere-ai/cohere-go,
// commit 9db38a4, 2025-12-18: v_2.go and types.go; its WireMock mappings
// hold the answers that providertest replays). What it says, and what the
// adapter does about it:
//
//   - Messages have roles system, user, assistant and tool. A developer
//     message goes as system. User content is a string, or text and
//     image_url parts ({"type":"image_url","image_url":{"url","detail"}},
//     a URL or a data: URL) for vision models. An assistant's calls are
//     tool_calls of {"id","type":"function","function":{"name",
//     "arguments"}}, arguments a JSON string, and its plan before calling
//     them tool_plan. A tool result is {"role":"tool","tool_call_id",
//     "content"}. Cohere requires an assistant message to have content or
//     tool calls: one with neither goes with empty content. A message's
//     name has no equivalent and is not sent.
//   - tool_plan is the model's reasoning before it calls tools: in
//     answers it is reasoning (a thinking part, streamed from
//     tool-plan-delta), and an assistant message with tool calls sends its
//     thinking text back as tool_plan. A reasoning model's content items
//     of type thinking are reasoning too.
//   - Tools are {"type":"function","function":{"name","description",
//     "parameters"}}; parameters are required, so a tool without them is
//     sent an empty object schema. A tool of another type is refused. A
//     strict tool sets strict_tools, which applies to every tool.
//   - tool_choice takes only REQUIRED and NONE; auto is its absence. A
//     named function has no equivalent: it goes as REQUIRED with only that
//     tool offered, which means the same.
//   - response_format is {"type":"json_object"} with an optional
//     json_schema (the schema itself, with no name or strict): OpenAI's
//     json_schema format goes as json_object with its schema.
//   - max_tokens is the output cap (max_completion_tokens goes as it);
//     temperature, seed, frequency_penalty and presence_penalty keep their
//     names; top_p is p, top_k is k and stop is stop_sequences.
//   - n above 1, logprobs and top_logprobs are refused: Cohere returns one
//     choice and its log probabilities are no OpenAI's. logit_bias, user,
//     metadata, parallel_tool_calls, reasoning_effort and an OpenAI
//     client's unknown members are left out and reported as dropped, or
//     refused under server.unsupported_params: refuse; an Anthropic
//     client's fields are checked as for an OpenAI upstream.
//   - Finish reasons are COMPLETE (stop), STOP_SEQUENCE (stop; Cohere does
//     not say which sequence matched, so it is named only when one was
//     configured), MAX_TOKENS (length), TOOL_CALL (tool_calls), ERROR and
//     TIMEOUT. ERROR is an upstream error and TIMEOUT an upstream timeout
//     (a 502 or 504 to a unary call, an in-band error ending a stream),
//     never a short answer passed off as complete. An unknown reason ends
//     the answer as complete.
//   - The answer names no model: chunks carry the model asked for.
//     Citations (citations, citation-start and citation-end) and logprobs
//     have no canonical equivalent and are not read.
//   - Usage is billed_units {input_tokens, output_tokens}, what Cohere
//     invoices, and tokens, what the model read and wrote with its prompt
//     template; the adapter reports billed_units (tokens when there are
//     none). cached_tokens are not reported as cached: Cohere publishes no
//     price for them nor says whether billed input includes them, and
//     counting them as cached could only lower a bill.
//   - Streams are server-sent events with an event: line and a type
//     member: message-start (the id), content-start and content-delta
//     (delta.message.content.text or .thinking), content-end,
//     tool-plan-delta, tool-call-start (id and name), tool-call-delta
//     (arguments in pieces), tool-call-end, citation-start, citation-end,
//     and message-end (delta.finish_reason, delta.usage, delta.error),
//     after which the stream is over: no data: [DONE] is documented, and
//     one that follows is not read. A stream that ends before message-end
//     is an error. Tool calls are numbered in the order they start.
//   - Errors are an HTTP status with {"id","message"}; there is no code.
//     Besides the usual statuses Cohere documents 498 (a request blocked
//     by its usage guidelines) and 499 (cancelled), both relayed as
//     upstream errors. A 200 body holding only a message is an error too.
//   - Embeddings take model, texts (96 at most), input_type (required:
//     search_document, classification, clustering, search_query or
//     image), embedding_types and output_dimension. OpenAI's protocol has
//     no input_type: it is DefaultInputType, search_document, unless the
//     client's body has an input_type member, which goes as it is (so does
//     truncate). encoding_format float or base64 picks the embedding type;
//     dimensions is output_dimension; token-id input is refused; user is
//     left out. The answer's embeddings.<type> are the vectors and
//     meta.billed_units.input_tokens the usage.
//
// Hostile answers are handled as by the other adapters: bounded bodies,
// checked JSON, credentials redacted, idle streams aborted.
package cohere
