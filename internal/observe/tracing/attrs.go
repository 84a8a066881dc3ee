package tracing

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/llmgw/llmgw/internal/config"
)

// Attribute keys of the gateway's spans. The gen_ai.* ones are the
// OpenTelemetry GenAI semantic conventions' (which name the provider
// gen_ai.provider.name: gen_ai.system is its deprecated former name, not
// emitted); the llmgw.* ones are the gateway's own.
const (
	GenAIOperation     = attribute.Key("gen_ai.operation.name")
	GenAIProvider      = attribute.Key("gen_ai.provider.name")
	GenAIRequestModel  = attribute.Key("gen_ai.request.model")
	GenAIResponseModel = attribute.Key("gen_ai.response.model")
	GenAIResponseID    = attribute.Key("gen_ai.response.id")
	GenAIInputTokens   = attribute.Key("gen_ai.usage.input_tokens")
	GenAIOutputTokens  = attribute.Key("gen_ai.usage.output_tokens")
	GenAIFinishReasons = attribute.Key("gen_ai.response.finish_reasons")
	ErrorType          = attribute.Key("error.type")
	HTTPMethod         = attribute.Key("http.request.method")
	HTTPRoute          = attribute.Key("http.route")
	HTTPStatus         = attribute.Key("http.response.status_code")

	// Tenant and Key are the caller's tenant and key name (never the
	// key itself).
	Tenant = attribute.Key("llmgw.tenant")
	Key    = attribute.Key("llmgw.key")
	// Provider is the configured provider's name (gen_ai.provider.name
	// is its kind), UpstreamModel the model sent to it.
	Provider      = attribute.Key("llmgw.provider")
	UpstreamModel = attribute.Key("llmgw.upstream_model")
	// RouteRule is the name of the model's routing rule that chose the
	// serving targets (models[].routes), absent for the model's own.
	RouteRule = attribute.Key("llmgw.route_rule")
	// Attempts counts a request's upstream attempts; Attempt is the
	// number of one (from 1), and Retry says it is not the first.
	Attempts = attribute.Key("llmgw.attempts")
	Attempt  = attribute.Key("llmgw.attempt")
	Retry    = attribute.Key("llmgw.retry")
	// Outcome is how an attempt ended: success, or the router's class of
	// its failure (rate_limited, upstream_error, timeout...).
	Outcome = attribute.Key("llmgw.outcome")
	// Cache is the response cache's verdict (hit, miss) when it ran.
	Cache = attribute.Key("llmgw.cache")
	// CostUSD is what the request cost, when its price is known.
	CostUSD = attribute.Key("llmgw.cost_usd")
	// Stream says the answer was streamed.
	Stream = attribute.Key("llmgw.stream")
	// Model is the model name the client asked for, which the router
	// resolves (gen_ai.request.model on the request span).
	Model = attribute.Key("llmgw.model")
)

// The values of gen_ai.operation.name the gateway emits.
const (
	OpChat       = "chat"
	OpCompletion = "text_completion"
	OpEmbeddings = "embeddings"
)

// genAIProviders maps provider types to their well-known
// gen_ai.provider.name; a type without one is named by its type.
var genAIProviders = map[string]string{
	config.TypeOpenAI:      "openai",
	config.TypeAzureOpenAI: "azure.ai.openai",
	config.TypeAnthropic:   "anthropic",
	config.TypeGemini:      "gcp.gemini",
	config.TypeVertex:      "gcp.vertex_ai",
	config.TypeBedrock:     "aws.bedrock",
	config.TypeMistral:     "mistral_ai",
	config.TypeCohere:      "cohere",
}

// ProviderName returns the gen_ai.provider.name of a provider type.
func ProviderName(providerType string) string {
	if n, ok := genAIProviders[providerType]; ok {
		return n
	}
	return providerType
}

// Operation returns the gen_ai.operation.name of a call: embeddings, a
// legacy completion (the client's protocol "openai.completions"), or chat
// (chat completions, messages, responses).
func Operation(embed bool, protocol string) string {
	switch {
	case embed:
		return OpEmbeddings
	case protocol == "openai.completions":
		return OpCompletion
	}
	return OpChat
}
