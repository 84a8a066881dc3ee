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
package responses
