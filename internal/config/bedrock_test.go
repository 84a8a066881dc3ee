package config

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestValidateBedrock(t *testing.T) {
	tests := []struct {
		name string
		p    Provider
		want []string
	}{
		{"environment only", Provider{Name: "b", Type: TypeBedrock}, nil},
		{"static keys", Provider{Name: "b", Type: TypeBedrock, Bedrock: &Bedrock{Region: "eu-central-1", AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: "t", API: "anthropic"}}, nil},
		{"api key refused", Provider{Name: "b", Type: TypeBedrock, APIKey: "k"},
			[]string{"providers[0].api_key: not used by type bedrock, which signs requests with AWS credentials: set bedrock.access_key_id and bedrock.secret_access_key, or leave them to the environment"}},
		{"half a key pair, token alone, bad region, unknown api", Provider{Name: "b", Type: TypeBedrock, Bedrock: &Bedrock{Region: "Virginia", SecretAccessKey: "s", API: "invoke"}},
			[]string{
				`providers[0].bedrock.region: not an AWS region name such as "us-east-1"`,
				"providers[0].bedrock: set both access_key_id and secret_access_key, or neither",
				`providers[0].bedrock.api: unknown api "invoke" (want converse or anthropic)`,
			}},
		{"session token without keys", Provider{Name: "b", Type: TypeBedrock, Bedrock: &Bedrock{SessionToken: "t"}},
			[]string{"providers[0].bedrock.session_token: only with access_key_id and secret_access_key"}},
		{"profile and keys", Provider{Name: "b", Type: TypeBedrock, Bedrock: &Bedrock{Profile: "dev", AccessKeyID: "AKIA", SecretAccessKey: "s"}},
			[]string{"providers[0].bedrock: set either profile or static credentials (access_key_id), not both"}},
		{"bedrock block on another type", Provider{Name: "b", Type: TypeOpenAI, APIKey: "k", Bedrock: &Bedrock{Region: "us-east-1"}},
			[]string{"providers[0].bedrock: only allowed for type bedrock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Providers: []Provider{tt.p}, Models: []Model{{Name: "m", Targets: []Target{{Provider: "b", Model: "x", Weight: 1}}}}}
			c.ApplyDefaults()
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// The credentials of a bedrock block are secrets: read from references,
// never shown by Redacted, in YAML or JSON.
func TestParseBedrockRedacted(t *testing.T) {
	c, err := Parse([]byte(`
providers:
  - name: b
    type: bedrock
    bedrock: {region: us-east-1, access_key_id: "${K}", secret_access_key: "${S}", session_token: "${T}", api: anthropic}
models:
  - {name: m, targets: [{provider: b, model: anthropic.claude-sonnet-4-20250514-v1:0}]}
`), func(k string) (string, bool) {
		return map[string]string{"K": "AKIAEXAMPLEKEYID0001", "S": "wJalrXUtnFEMI-secret-value", "T": "session-token-value"}[k], true
	})
	require.NoError(t, err)
	b := c.Providers[0].Bedrock
	require.Equal(t, "wJalrXUtnFEMI-secret-value", b.SecretAccessKey.Value())
	require.Equal(t, "anthropic", b.API)
	y, err := yaml.Marshal(c.Redacted())
	require.NoError(t, err)
	j, err := json.Marshal(c.Redacted())
	require.NoError(t, err)
	for _, out := range []string{string(y), string(j)} {
		for _, s := range []string{"AKIAEXAMPLEKEYID0001", "wJalrXUtnFEMI-secret-value", "session-token-value"} {
			require.NotContains(t, out, s)
		}
	}
	require.Equal(t, "wJalrXUtnFEMI-secret-value", c.Providers[0].Bedrock.SecretAccessKey.Value(), "Redacted changed the original")
}
