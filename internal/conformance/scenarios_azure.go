package conformance

import (
	"net/http"
	"testing"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// naAzureOnly is why a pair cannot express an Azure scenario.
const naAzureOnly = "Only Azure OpenAI has this in its protocol."

// onlyAzure is n/a for every pair whose upstream is not Azure.
func onlyAzure(p Pair, _ Mode) string {
	if family(p.Upstream) != Azure {
		return naAzureOnly
	}
	return ""
}

// azureScenarios are Azure OpenAI's additions to OpenAI's protocol: the
// deployment in the URL, and its content filter's answers.
func azureScenarios() []Scenario {
	plain := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
	}
	return []Scenario{
		{
			Name: "deployment in the URL, key in api-key (Azure)", Modes: []Mode{Unary}, NA: onlyAzure, Request: plain,
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				reqs := c.Fake().Requests()
				last := reqs[len(reqs)-1]
				expectEqual(t, "deployment", providertest.AzureDeployment(last), AzureUpstreamModel)
				expectEqual(t, "api-key", last.Header.Get("api-key"), "azure-upstream-key")
				expectEqual(t, "Authorization", last.Header.Get("Authorization"), "")
			},
		},
		{
			Name: "content filter: filtered completion with annotations (Azure)", Modes: both, NA: onlyAzure, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "azure/stream_content_filter.sse"), Split: 9}}
				}
				return []providertest.Response{{Body: providertest.Load(t, "azure/chat_content_filter.json")}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "content_filter"))
				if c.Streamed() {
					expectEqual(t, "text", r.Text, "Hello there")
				}
			},
		},
		{
			Name: "content filter: filtered prompt, 400 content_filter (Azure)", Modes: []Mode{Unary}, NA: onlyAzure, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(providertest.Response{Status: http.StatusBadRequest, Body: providertest.Load(t, "azure/error_400_content_filter.json")}, 4)
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectEqual(t, "status", r.Status, http.StatusBadRequest)
				// A content-policy refusal, not retried; an OpenAI client
				// gets Azure's own code, relayed as an OpenAI upstream's is.
				want := map[string]string{OpenAI: "content_filter", Anthropic: "invalid_request_error"}[c.Client()]
				expectEqual(t, "error", r.ErrType, want)
				expectEqual(t, "upstream requests", len(c.Fake().Requests()), 1)
			},
		},
	}
}
