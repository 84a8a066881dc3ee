package config

import (
	"slices"
	"strings"
	"time"
)

// HealthCheck is an active check of a provider: a cheap request sent on an
// interval whatever the traffic, whose result feeds the breakers of the
// provider's targets, /readyz and the llmgw_provider_up metric
// (docs/health.md). Off unless set. The request is the upstream's model
// list (OpenAI-like GET {base_url}/models, Azure OpenAI GET
// /openai/models, Anthropic GET /v1/models?limit=1, Gemini GET
// /v1beta/models?pageSize=1, Cohere GET /v1/models?page_size=1, Ollama GET
// /api/tags); it costs no tokens. The mock provider answers it at once.
// Types vertex and bedrock have no such request the gateway sends yet, and
// refuse the setting.
type HealthCheck struct {
	// Interval is the time between two checks of the provider; default
	// "30s", at least "1s".
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Timeout bounds one check; a check that takes longer fails. Default
	// "5s"; at least "100ms" and at most the interval.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Defaults and bounds of providers[].health_check.
const (
	DefaultHealthCheckInterval = 30 * time.Second
	DefaultHealthCheckTimeout  = 5 * time.Second
	MinHealthCheckInterval     = time.Second
	MinHealthCheckTimeout      = 100 * time.Millisecond
)

// HealthCheckTypes are the provider types that have an active check.
var HealthCheckTypes = []string{TypeOpenAI, TypeOpenAICompatible, TypeVLLM, TypeAzureOpenAI, TypeAnthropic,
	TypeGemini, TypeMistral, TypeCohere, TypeOllama, TypeMock}

// applyDefaults fills the unset settings of a check.
func (h *HealthCheck) applyDefaults() {
	if h == nil {
		return
	}
	setDefault(&h.Interval, Duration(DefaultHealthCheckInterval))
	setDefault(&h.Timeout, Duration(DefaultHealthCheckTimeout))
}

// validate checks the check of a provider of type typ, at path.
func (h *HealthCheck) validate(p *problems, path, typ string) {
	if h == nil {
		return
	}
	if typ != "" && !slices.Contains(HealthCheckTypes, typ) {
		p.add(path, "not available for type %s (available for %s)", typ, strings.Join(HealthCheckTypes, ", "))
	}
	if h.Interval < Duration(MinHealthCheckInterval) {
		p.add(fieldPath(path, "interval"), "must be at least 1s")
	}
	switch {
	case h.Timeout < Duration(MinHealthCheckTimeout):
		p.add(fieldPath(path, "timeout"), "must be at least 100ms")
	case h.Timeout > h.Interval && h.Interval >= Duration(MinHealthCheckInterval):
		p.add(fieldPath(path, "timeout"), "must not be longer than the interval (%s)", time.Duration(h.Interval))
	}
}
