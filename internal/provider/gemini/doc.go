// Package gemini adapts the Gemini API with an API key
// (https://generativelanguage.googleapis.com/v1beta): generateContent,
// streamGenerateContent, embedContent and batchEmbedContents.
//
// The adapter has three parts, as DESIGN.md splits every adapter:
// translation (request.go, response.go, stream.go, embed.go: canonical
// request to GenerateContentRequest, GenerateContentResponse and its
// stream events back, with no knowledge of where they go), transport
// (provider.Upstream and provider.EventStream: bounded bodies, checked
// JSON, idle streams aborted, credentials redacted) and upstream auth (the
// x-goog-api-key header, set in New). Vertex AI serves the same
// GenerateContentRequest and GenerateContentResponse under another URL,
// https://{location}-aiplatform.googleapis.com/v1/projects/{project}/
// locations/{location}/publishers/google/models/{model}:{method}, with an
// OAuth2 bearer token instead of a key: package vertex reuses this
// package's translation and stream as they are, through Config.ModelsURL
// (its models URL), Config.RequestHeader (a fresh access token per
// request) and Config.PredictEmbeddings (Vertex AI's :predict text
// embeddings in place of embedContent); nothing in the translation reads
// the URL or the credentials.
//
// Reference: the Gemini API reference (ai.google.dev/api, API version
// v1beta, pages "Generating content", "Caching", "Embeddings" and the
// guides "Function calling", "Thinking", "Thought signatures" and
// "Structured output", read 2026-12), and the types of the official Go
// SDK, github.com/googleapis/go-genai (types.go: Content, Part,
// FunctionCall, FunctionDeclaration, GenerationConfig, ThinkingConfig,
// FinishReason, GenerateContentResponseUsageMetadata). The quirks, and
// what the adapter does about them:
//
//   - The key goes in the x-goog-api-key header. The API also takes it as
//     ?key=, which would put it in every access log between here and
//     Google: never used.
//   - A stream is streamGenerateContent?alt=sse: data-only events, each a
//     whole GenerateContentResponse with the next parts, framed by CRLF
//     CRLF. Without alt=sse the API answers one JSON array, which is no
//     stream (an upstream error here). There is no [DONE]: the event
//     carrying a finishReason is the last, and a stream that ends before
//     one is cut short, an error. An error may come as an event,
//     {"error": {...}}, mid-stream: an upstream error ending the stream.
//   - Roles are user and model. System and developer messages become
//     systemInstruction. Tool results are functionResponse parts of a user
//     turn, consecutive results in one turn, as parallel calls need.
//     functionResponse.response must be an object: a result that is a
//     JSON object goes as it is, any other as {"output": text}, the key
//     the reference names for a function's output.
//   - Tool call ids: FunctionCall has an optional id ("if populated, the
//     client [is] to execute the function_call and return the response
//     with the matching id"), which the Gemini API leaves empty in
//     practice. A call's id is Gemini's when there is one, else
//     "call_" and 24 random hex digits; results are sent back by name and
//     in order (the name of the call whose id the result carries), never
//     with ids, which Gemini did not give.
//   - Thought signatures: Gemini 3 models put a thoughtSignature on the
//     first functionCall part of a turn and refuse (400, "Function call is
//     missing a thought_signature in functionCall parts") a history whose
//     calls lack it. A client's tool_calls have no place for it, so the
//     first call of each model turn sent to a Gemini 3 (or later) model
//     carries "skip_thought_signature_validator", the value the "Thought
//     signatures" guide gives for calls whose signature is not at hand.
//     Earlier models are sent none.
//   - Tools are one Tool of functionDeclarations, the parameters as
//     parametersJsonSchema (JSON Schema as written; the older parameters
//     field takes Google's OpenAPI subset and refuses additionalProperties
//     and the like). tool_choice is functionCallingConfig.mode: auto AUTO,
//     none NONE, required ANY, a named function ANY with
//     allowedFunctionNames.
//   - generationConfig takes temperature, topP, topK, maxOutputTokens,
//     stopSequences, candidateCount (n; a stream carries one candidate,
//     so n > 1 is refused when streaming), presencePenalty,
//     frequencyPenalty and seed. JSON mode is responseMimeType
//     application/json, with the schema as responseJsonSchema. logit_bias,
//     logprobs, top_logprobs, user, parallel_tool_calls and metadata have
//     no equivalent: dropped and reported, or refused under
//     server.unsupported_params: refuse. An OpenAI client's extra members
//     safetySettings and cachedContent go as they are.
//   - Thinking is generationConfig.thinkingConfig: thinkingBudget (0 off,
//     -1 the model decides) and includeThoughts. Anthropic's budget_tokens
//     is the budget; a reasoning effort is minimal 512, low 1024, medium
//     8192, high 24576, xhigh 32768, none 0. Thoughts are asked for
//     whenever thinking is on; parts with "thought": true are the
//     reasoning, with their thoughtSignature as the signature. Reasoning a
//     client sends back in an assistant message is not sent: the model
//     does not read past thoughts as input.
//   - Images are inlineData {mimeType, data}. An image by URL is refused:
//     fileData takes only files uploaded to Google.
//   - Finish reasons: STOP is stop (tool_calls after calls: Gemini says
//     STOP), MAX_TOKENS length. SAFETY, RECITATION, BLOCKLIST,
//     PROHIBITED_CONTENT, SPII, LANGUAGE, IMAGE_SAFETY,
//     IMAGE_PROHIBITED_CONTENT and IMAGE_RECITATION are content_filter.
//     MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, OTHER, NO_IMAGE,
//     IMAGE_OTHER, FINISH_REASON_UNSPECIFIED and any reason added later
//     mean the generation failed: an upstream error, never a short answer
//     passed off as complete. A prompt blocked (no candidates,
//     promptFeedback.blockReason) is an empty answer with content_filter.
//   - Usage is usageMetadata: promptTokenCount (which includes
//     cachedContentTokenCount, the cached tokens) plus
//     toolUsePromptTokenCount is the prompt; candidatesTokenCount leaves
//     the thoughts out (totalTokenCount = prompt + candidates + thoughts),
//     so the completion is candidatesTokenCount + thoughtsTokenCount, and
//     the thoughts are the reasoning tokens. Every stream event carries
//     the usage so far; the last one's is the stream's.
//   - Errors are {"error": {"code", "message", "status", "details"}}; the
//     status (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...) is the code kept
//     for the logs. A 200 answer holding an error object is an upstream
//     error.
//   - Embeddings: one input goes to embedContent ({"content": {"parts":
//     [{"text"}]}, outputDimensionality}), several to one
//     batchEmbedContents request whose requests each name the model. Text
//     only; neither answer counts tokens. An OpenAI client's taskType
//     goes as it is.
//
// It is no provider.Forwarder: no client speaks Gemini's protocol to the
// gateway.
package gemini
