// Package llm holds the gateway's canonical model of an inference call: the
// chat request, its messages and content parts, tools, the streamed response
// chunks, token usage and the one typed error every layer returns.
//
// Every wire protocol (OpenAI, Anthropic, ...) translates to and from these
// types, so a request that enters in one protocol can be served by an upstream
// speaking another. The package imports nothing from the rest of the gateway
// (a test enforces it); it is the vocabulary the other packages share.
//
// A response is always a Stream of Chunks: a non-streaming upstream answer is
// a Stream of one Chunk holding whole messages, a streaming one yields deltas.
// Accumulator folds either into one complete response.
package llm
