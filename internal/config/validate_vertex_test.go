package config

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// A vertex provider parses from YAML with its location defaulted and its
// credentials a secret.
func TestParseVertex(t *testing.T) {
	c, err := Parse([]byte(`
providers:
  - name: vx
    type: vertex
    vertex: {project: my-proj, credentials: "${SA}"}
models:
  - {name: m, targets: [{provider: vx, model: "claude-sonnet-4@20250514"}]}
`), func(k string) (string, bool) {
		return map[string]string{"SA": `{"type":"service_account","private_key":"s3cret-key"}`}[k], true
	})
	require.NoError(t, err)
	v := c.Providers[0].Vertex
	require.NotNil(t, v)
	require.Equal(t, "my-proj", v.Project)
	require.Equal(t, "global", v.Location)
	require.Contains(t, v.Credentials.Value(), "s3cret-key")
	red := c.Redacted()
	require.Equal(t, "[redacted]", red.Providers[0].Vertex.Credentials.Value())
	require.Contains(t, c.Providers[0].Vertex.Credentials.Value(), "s3cret-key", "Redacted leaves the original alone")
	out, err := yaml.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cret-key")
}

// What validation refuses of a vertex provider, every problem at once.
func TestValidateVertex(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"no block", "{name: vx, type: vertex}",
			[]string{"providers[0].vertex: required for type vertex (at least vertex.project)"}},
		{"fields", `{name: vx, type: vertex, api_key: k, vertex: {project: "My Project", location: "us-central1.evil.com", credentials: "{}", credentials_file: /a.json}}`,
			[]string{
				"providers[0].api_key: not used by type vertex: it authenticates with vertex.credentials, vertex.credentials_file or Application Default Credentials",
				"providers[0].vertex.project: not a Google Cloud project id",
				`providers[0].vertex.location: want a region such as "us-central1", "us", "eu" or "global"`,
				"providers[0].vertex: set at most one of credentials and credentials_file",
			}},
		{"no project", "{name: vx, type: vertex, vertex: {location: us-east5}}",
			[]string{"providers[0].vertex.project: required"}},
		{"block on another type", "{name: vx, type: gemini, api_key: k, vertex: {project: p}}",
			[]string{"providers[0].vertex: only allowed for type vertex"}},
		{"domain-scoped project, multi-region", "{name: vx, type: vertex, vertex: {project: \"example.com:proj-1\", location: eu, credentials_file: /k.json}}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("providers:\n  - "+tc.yaml+"\n"), nil)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}
