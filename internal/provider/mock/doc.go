// Package mock is the gateway's built-in provider: it needs no key and no
// network, so a new installation answers at once and load tests have an
// upstream whose behaviour is known exactly.
//
// The model answers with the text of the last user message (or a fixed
// sentence when there is none), streamed word by word: each delta is one
// word with the whitespace before it, so the deltas concatenate to the whole
// text. A request with tools whose tool_choice is "required" or names a
// function is answered with one call of that function (or of the first
// tool) with the arguments {"input": "<last user text>"}. max_tokens
// truncates the answer to that many words (finish reason length), a stop
// sequence cuts it before its first occurrence (finish reason stop), and n
// asks for n identical choices.
//
// Timing is configurable through Options: Latency passes before Chat
// returns, TimeToFirstToken before the first content delta, then each
// further word waits 1/TokensPerSecond. A non-streaming call waits the same
// total before returning its one chunk. ErrorRate makes a fraction of calls
// fail with an upstream-unavailable error, in a sequence fixed by Seed.
//
// Token counts are estimates, the same for every call with the same input:
//
//	prompt     = sum over messages of (4 + words in its text parts
//	             + for each tool call it makes, 1 + words in its arguments)
//	completion = n * words emitted, or n * (1 + words in the arguments)
//	             for a tool call
//	total      = prompt + completion
//
// where a word is a run of non-space characters. Embeddings count the words
// of each string input, or the ids of each token-id input.
//
// Legacy completions (OpenAI's /v1/completions, forwarded to the mock as
// a provider.EndpointForwarder) are answered the same way, the prompt
// standing for the last user message: the first prompt of an array, the
// fallback sentence for a prompt of token ids; max_tokens is 16 when the
// request leaves it out, as in OpenAI's reference. The answer is written as
// text_completion objects, a stream without chat's opening role-only event.
// Its mock Protocol is no client's, so no chat or Messages body is ever
// forwarded to it.
//
// Embed returns unit-length vectors derived from an FNV-1a hash of each
// input, of length Dimensions (16 by default), as floats or as base64 of
// little-endian float32 values when the encoding format is base64.
//
// Streams are pull-based: every wait happens inside Recv, no goroutine is
// started, and a wait ends as soon as the call's context is done or the
// stream is closed.
package mock
