// Package bedrock adapts Amazon Bedrock's runtime API
// (https://bedrock-runtime.{region}.amazonaws.com): Converse and
// ConverseStream for any model, InvokeModel and
// InvokeModelWithResponseStream with an Anthropic Messages body for
// Anthropic's models, and InvokeModel for embeddings (Amazon Titan Text
// Embeddings, Cohere Embed).
//
// The adapter has the three parts DESIGN.md asks of one: translation
// (converse.go, response.go, converse_stream.go; the Anthropic body is
// internal/protocol/anthropic's, made a Bedrock body in anthropic.go),
// transport and upstream auth, which are the AWS SDK's: the requests go
// through bedrockruntime.Client, which signs them with SigV4 and decodes
// the binary event streams. Nothing of either is written here. The SDK's
// HTTP client is the gateway's upstream client (connect and response
// header timeouts, the idle pool, redirects never followed), wrapped to
// add the configured headers and the hop header after signing, and to
// read every JSON answer whole, bounded at 32 MiB and with the
// credentials redacted before the SDK decodes it. The SDK's retries are
// off: the router retries and fails over, and its breakers must see every
// failure. "Anthropic on Bedrock" is thus a combination, as DESIGN.md
// wants: Anthropic's translation, the SDK's signing and URLs.
//
// A provider chooses its request shape with bedrock.api: "converse" (the
// default) for every model, or "anthropic" for Anthropic's models only,
// which carries every Messages feature as Anthropic defines it (server
// tools, citations, cache_control where the client put it, betas) and
// lets /v1/messages clients take the fast path (Anthropic, a
// provider.Forwarder): their bytes go with only model and stream removed
// and anthropic_version set. The choice is the operator's, per provider,
// rather than guessed from the model id: inference profile ARNs do not
// name the model, and both shapes serve Claude. Two providers with the
// same credentials and different api serve both.
//
// Credentials come from the SDK's default chain (config.LoadDefaultConfig:
// environment, shared files and profile, web identity, SSO, container and
// instance roles) unless static ones are configured. They are kept by a
// refresher (credentials.go) that hands the current ones to every request
// without waiting and refreshes them in the background from five minutes
// before their expiry (halfway through a shorter life); a request waits
// only when there are none valid. The SDK's aws.CredentialsCache is not
// enough for that: with an ExpiryWindow it counts credentials as expired
// that much early, and the request that finds them so fetches new ones on
// its own path while the others wait on it (aws/credential_cache.go,
// Retrieve); the refresher invalidates it before each refresh so that it
// reaches the source.
//
// Reference: the Amazon Bedrock API Reference (Converse, ConverseStream,
// InvokeModel, InvokeModelWithResponseStream, and the data types
// ContentBlock, ContentBlockDelta, ConverseStreamOutput, ToolChoice,
// InferenceConfiguration, TokenUsage, StopReason; the "Common errors" and
// per-operation error lists), the Bedrock user guide pages "Anthropic
// Claude Messages API" and "Extended thinking", the Titan Text Embeddings
// V2 and Cohere Embed request pages, read 2026-12, and the official Go
// SDK github.com/aws/aws-sdk-go-v2/service/bedrockruntime v1.63.13. The
// quirks, and what the adapter does about them:
//
//   - The model id is one path segment, /model/{modelId}/converse: an
//     inference profile id ("us.anthropic...") or an ARN, whose colons and
//     slash the SDK escapes, go as they are.
//   - Roles must alternate, starting with user. System and developer
//     messages are the system blocks; tool results are toolResult blocks
//     of a user turn; turns of one role in a row are joined, so parallel
//     results and the user's next words share one turn. toolUse and
//     toolResult blocks are refused without a toolConfig.
//   - Images are bytes (or an S3 location), never a URL: an image by URL
//     is refused with a 400; data: images go as bytes, png, jpeg, gif or
//     webp.
//   - Tools are toolSpec with the schema under inputSchema.json. toolChoice
//     is auto, any (required) or tool (a named function); there is no
//     none: the tools are left out, unless the conversation holds tool
//     blocks, when they go with no choice, as Converse wants.
//   - inferenceConfig takes maxTokens, temperature, topP and
//     stopSequences. Whatever the model takes beyond that goes in
//     additionalModelRequestFields, which Bedrock hands to the model as it
//     is: top_k and Anthropic's thinking ({"type": "enabled",
//     "budget_tokens"}; a reasoning effort becomes a budget as toward
//     Anthropic). Reasoning comes back as reasoningContent blocks
//     (reasoningText with its signature, or redactedContent bytes), and is
//     sent back the same way in assistant turns. metadata is
//     requestMetadata; response_format json_schema is
//     outputConfig.textFormat (json_object as the schema of any object).
//     Seed, penalties, logit_bias, logprobs, user and parallel_tool_calls
//     have no equivalent: dropped and reported, or refused under
//     server.unsupported_params: refuse. n above 1 is refused.
//   - cache_control on a block becomes a cachePoint block after it, in
//     messages, system and tools.
//   - Stop reasons: end_turn and stop_sequence are stop, tool_use
//     tool_calls, max_tokens and model_context_window_exceeded length,
//     guardrail_intervened and content_filtered content_filter.
//     malformed_model_output, malformed_tool_use and any reason added
//     later are an upstream error, never a short answer passed off as
//     complete.
//   - Usage: inputTokens leaves out cacheReadInputTokens and
//     cacheWriteInputTokens (totalTokens is all four): the prompt is their
//     sum, the cached tokens the reads, the cache creation the writes.
//   - ConverseStream sends messageStart, contentBlockStart (a tool call's
//     id and name), contentBlockDelta, contentBlockStop, messageStop (the
//     stop reason) and then metadata (the usage). The finish reason is
//     held until the metadata so that the last chunk carries both; a
//     stream that ends before the metadata is cut short, an error: the
//     usage of the answer would be unknown. Every payload carries a
//     padding member "p".
//   - Errors are an HTTP status with the exception's name in
//     X-Amzn-ErrorType and {"message"}; inside a stream, an exception
//     message (:message-type exception, :exception-type
//     throttlingException, modelStreamErrorException, validationException,
//     internalServerException, serviceUnavailableException), which ends
//     the stream with the upstream's error. Either way the exception
//     gives the status of the one table of upstream statuses:
//     ValidationException 400 (its message relayed; "Input is too long"
//     is context_length_exceeded), AccessDeniedException and the signature
//     exceptions 403 (the gateway's credentials), ResourceNotFoundException
//     404, ModelTimeoutException 408 (a timeout), ThrottlingException 429,
//     ServiceQuotaExceededException 429 (400 in the reference, but it is
//     the account's quota, not the request's fault),
//     ModelErrorException and ModelStreamErrorException 424,
//     InternalServerException 500, ServiceUnavailableException and
//     ModelNotReadyException (429 in the reference: a model still
//     loading) 503.
//   - The Anthropic body on Bedrock has no "model" (it is in the URL) and
//     no "stream" (streaming is InvokeModelWithResponseStream); both are
//     refused as extraneous keys, so both are removed. anthropic_version
//     is "bedrock-2023-05-31", the only value taken, and anthropic-beta
//     flags go in the body's anthropic_beta array. The stream's chunk
//     events carry each Anthropic event base64 encoded in "bytes" (the
//     SDK decodes it); the last, message_stop, also carries
//     amazon-bedrock-invocationMetrics, which is ignored.
//   - Titan Text Embeddings v2 takes one inputText per call (dimensions
//     256, 512 or 1024, normalize): an array input makes one call per
//     input, four at a time, at most 128 inputs. Cohere Embed
//     (cohere.embed-*) takes up to 96 texts per call and requires an
//     input_type (search_document unless the client sends its own); its
//     answer counts no tokens.
//   - The SDK's client (bedrockruntime v1.63.13 on smithy-go v1.28.9)
//     keeps one event stream codec whose decoder and payload buffer every
//     stream's reader goroutine writes: streams at once on one client
//     would read into the same buffer (a data race the race detector
//     shows). Each streaming call is given its own protocol, and so its
//     own codec (ownCodec).
//   - AWS_CA_BUNDLE applies to the SDK's own credential requests; the
//     requests to Bedrock go through the gateway's upstream client, with
//     the system's roots.
//
// What lives how long: a Provider, its SDK client and its refresher are
// the snapshot's; a refresh in flight is waited for by Close.
package bedrock
