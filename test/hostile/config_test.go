package hostile

import (
	"fmt"
	"strings"
)

// Short bounds, so that every misbehaviour ends within seconds.
const (
	requestTimeout = "4s"
	totalTimeout   = "3s"
	firstToken     = "2s"
	streamIdle     = "2s"
)

// gatewayConfig returns a config in front of the upstream at upURL: for
// every mode, model "oa-<mode>" served by the OpenAI provider and
// "an-<mode>" by the Anthropic one, both asking the upstream for model
// <mode>; "oa-alt" goes to a second OpenAI provider (model "alt"), and
// "mock" to the mock provider. server holds extra lines of the server
// section, indented by two spaces (server.request_timeout is set unless
// they set it); withKeys adds the canary virtual keys.
func gatewayConfig(upURL, server string, withKeys bool) string {
	var b strings.Builder
	if !strings.Contains(server, "request_timeout:") {
		server += fmt.Sprintf("\n  request_timeout: %q", requestTimeout)
	}
	fmt.Fprintf(&b, `server:
  admin_token: %q
  stream_idle_timeout: %q
  shutdown_timeout: "5s"
%s
providers:
  - name: up-openai
    type: openai
    base_url: %q
    api_key: %q
    headers: {X-Canary-Auth: %q}
    response_header_timeout: %q
  - name: up-openai-alt
    type: openai
    base_url: %q
    api_key: %q
    headers: {X-Canary-Auth: %q}
  - name: up-anthropic
    type: anthropic
    base_url: %q
    api_key: %q
    headers: {X-Canary-Auth: %q}
    response_header_timeout: %q
  - name: mock
    type: mock
    mock: {tokens_per_second: 20}
  - name: mock-slow
    type: mock
    mock: {tokens_per_second: 1}
models:
  - name: mock
    targets: [{provider: mock, model: mock}]
  - name: mock-slow
    targets: [{provider: mock-slow, model: mock}]
  - name: oa-alt
    targets: [{provider: up-openai-alt, model: alt}]
  - name: oa-fallback
    targets: [{provider: up-openai, model: "429"}]
    retry: {max_attempts: 1}
    fallbacks: [oa-alt]
`, canaryAdminToken, streamIdle, server,
		upURL+"/v1", canaryProviderKey, canaryHeader, firstToken,
		upURL+"/v1", canaryProviderKey, canaryHeader,
		upURL, canaryAnthropicKey, canaryHeader, firstToken)
	for _, m := range allModes {
		for _, p := range []struct{ prefix, provider string }{{"oa-", "up-openai"}, {"an-", "up-anthropic"}} {
			fmt.Fprintf(&b, `  - name: %s%s
    targets: [{provider: %s, model: %q}]
    retry: {max_attempts: 1}
    timeouts: {first_token: %q, total: %q, stream_idle: %q}
    breaker: {consecutive_failures: 1000, min_requests: 1000}
    all_open_wait: "1s"
`, p.prefix, m, p.provider, m, firstToken, totalTimeout, streamIdle)
		}
	}
	if withKeys {
		fmt.Fprintf(&b, `keys:
  - name: all
    key: %q
  - name: none
    key: %q
    models: []
  - name: one
    key: %q
    models: ["oa-ok", "an-ok"]
  - name: failing
    key: %q
    models: ["oa-429", "oa-fallback"]
`, canaryVirtualKey, canaryNoModelsKey, canaryOneModelKey, canaryFailingKey)
	}
	return b.String()
}
