package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRoutes(t *testing.T) {
	cfg, err := Parse([]byte(`
providers: [{name: m, type: mock}, {name: n, type: mock}]
models:
  - name: a
    targets: [{provider: m, model: x}]
    routes:
      - name: variant-b
        match: {header: {name: x-llmgw-variant, value: b}, key_labels: {env: canary}, tenants: [acme]}
        percent: 5
        targets: [{provider: n, model: y}]
      - name: all-5
        percent: 0.5
        targets: [{provider: n, model: y, weight: 2}]
`), nil)
	require.NoError(t, err)
	r := cfg.Models[0].Routes
	require.Len(t, r, 2)
	assert.Equal(t, "variant-b", r[0].Name)
	assert.Equal(t, &HeaderMatch{Name: "x-llmgw-variant", Value: "b"}, r[0].Match.Header)
	assert.Equal(t, map[string]string{"env": "canary"}, r[0].Match.KeyLabels)
	assert.Equal(t, []string{"acme"}, r[0].Match.Tenants)
	assert.Equal(t, 5.0, *r[0].Percent)
	assert.Equal(t, []Target{{Provider: "n", Model: "y", Weight: 1}}, r[0].Targets, "a route target's weight defaults to 1")
	assert.Equal(t, 2, r[1].Targets[0].Weight)

	// Strict: an unknown key in a route is refused.
	_, err = Parse([]byte(`
providers: [{name: m, type: mock}]
models:
  - name: a
    targets: [{provider: m, model: x}]
    routes: [{name: r, match: {tenants: [t], host: evil.example}, targets: [{provider: m, model: x}]}]
`), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "models[0].routes[0].match.host")

	// Redacted copies are deep.
	out := cfg.Redacted()
	out.Models[0].Routes[0].Match.KeyLabels["env"] = "prod"
	out.Models[0].Routes[0].Targets[0].Model = "z"
	*out.Models[0].Routes[0].Percent = 50
	assert.Equal(t, "canary", cfg.Models[0].Routes[0].Match.KeyLabels["env"])
	assert.Equal(t, "y", cfg.Models[0].Routes[0].Targets[0].Model)
	assert.Equal(t, 5.0, *cfg.Models[0].Routes[0].Percent)
}

func TestValidateRoutes(t *testing.T) {
	pct := func(v float64) *float64 { return &v }
	ok := []Target{{Provider: "mock", Model: "m2", Weight: 1}}
	tests := []struct {
		name   string
		model  int
		routes []Route
		want   []string
	}{
		{"valid", 0, []Route{
			{Name: "b", Match: RouteMatch{Header: &HeaderMatch{Name: "X-Llmgw-Variant", Value: "b"}}, Targets: ok},
			{Name: "canary.v2", Percent: pct(100), Targets: ok},
			{Name: "acme_5", Match: RouteMatch{Tenants: []string{"acme"}, KeyLabels: map[string]string{"env": "canary"}}, Percent: pct(0.01), Targets: ok},
		}, nil},
		{"target timeouts", 0, []Route{{Name: "t", Percent: pct(5), Targets: []Target{{Provider: "mock", Model: "m2", Weight: 1, Timeouts: Timeouts{Total: Duration(-time.Second)}}}}},
			[]string{"models[0].routes[0].targets[0].timeouts.total: must not be negative"}},
		{"empty match", 0, []Route{{Name: "r", Targets: ok}},
			[]string{"models[0].routes[0].match: at least one condition (header, key_labels, tenants) is required unless percent is set: a route that takes every request leaves the model's targets unused"}},
		{"names", 0, []Route{
			{Name: "", Percent: pct(1), Targets: ok},
			{Name: "a b", Percent: pct(1), Targets: ok},
			{Name: "x", Percent: pct(1), Targets: ok},
			{Name: "x", Percent: pct(1), Targets: ok},
		}, []string{
			"models[0].routes[0].name: required: letters, digits, '_', '-' and '.', at most 64 bytes",
			"models[0].routes[1].name: required: letters, digits, '_', '-' and '.', at most 64 bytes",
			`models[0].routes[3].name: duplicate route name "x" (also at index 2)`,
		}},
		{"percent", 0, []Route{
			{Name: "a", Percent: pct(0), Targets: ok},
			{Name: "b", Percent: pct(100.5), Targets: ok},
			{Name: "c", Percent: pct(-1), Targets: ok},
		}, []string{
			"models[0].routes[0].percent: must be above 0 and at most 100",
			"models[0].routes[1].percent: must be above 0 and at most 100",
			"models[0].routes[2].percent: must be above 0 and at most 100",
		}},
		{"header", 0, []Route{
			{Name: "a", Match: RouteMatch{Header: &HeaderMatch{Name: "x variant", Value: "b"}}, Targets: ok},
			{Name: "b", Match: RouteMatch{Header: &HeaderMatch{Name: "authorization", Value: "Bearer x"}}, Targets: ok},
			{Name: "c", Match: RouteMatch{Header: &HeaderMatch{}}, Targets: ok},
			{Name: "d", Match: RouteMatch{Header: &HeaderMatch{Name: "x-v", Value: "a\nb"}}, Targets: ok},
		}, []string{
			"models[0].routes[0].match.header.name: not a valid header name",
			"models[0].routes[1].match.header.name: a credential header cannot be matched",
			"models[0].routes[2].match.header.name: required",
			"models[0].routes[2].match.header.value: required",
			"models[0].routes[3].match.header.value: not a valid header value",
		}},
		{"labels and tenants", 0, []Route{
			{Name: "a", Match: RouteMatch{KeyLabels: map[string]string{"": "x"}, Tenants: []string{"t", "", "t"}}, Targets: ok},
		}, []string{
			"models[0].routes[0].match.key_labels: a label name must not be empty",
			"models[0].routes[0].match.tenants[1]: must not be empty",
			`models[0].routes[0].match.tenants[2]: duplicate tenant "t"`,
		}},
		{"targets", 0, []Route{
			{Name: "a", Percent: pct(5)},
			{Name: "b", Percent: pct(5), Targets: []Target{{Provider: "nope", Model: "x", Weight: 1}, {Provider: "mock", Model: "*", Weight: 0}}},
			{Name: "c", Percent: pct(5), Targets: []Target{{Provider: "mock", Model: "x", Weight: 0, Limits: &Limits{RPM: -1}}}},
		}, []string{
			"models[0].routes[0].targets: at least one target is required",
			`models[0].routes[1].targets[0].provider: unknown provider "nope"`,
			`models[0].routes[1].targets[1].model: "*" is only allowed in a wildcard model such as "openai/*"`,
			"models[0].routes[2].targets[0].limits.rpm: must not be negative",
			"models[0].routes[2].targets: at least one target needs a weight above 0",
		}},
		{"wildcard", 2, []Route{{Name: "a", Percent: pct(5), Targets: []Target{{Provider: "openai", Model: "gpt-4o", Weight: 1}}}},
			[]string{`models[2].routes[0].targets[0].model: must be "*" in a wildcard model`}},
		{"too many", 0, make([]Route, MaxRoutes+1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Models[tt.model].Routes = tt.routes
			got := problemLines(c.Validate())
			if tt.name == "too many" {
				assert.Contains(t, got, "models[0].routes: at most 32 routes")
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
