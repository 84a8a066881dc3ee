package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// secretConfig returns a configuration holding a secret in every place one
// can be, each containing "SECRET".
func secretConfig(t *testing.T) *Config {
	t.Helper()
	cfg, err := Parse([]byte(`
server: {admin_token: "SECRET-admin", metrics_token: "SECRET-metrics"}
providers:
  - name: o
    type: openai
    api_key: "SECRET-openai"
    headers: {X-Org: "SECRET-header"}
  - {name: m, type: mock, mock: {seed: 1}}
models:
  - name: a
    targets: [{provider: o, model: x}]
keys:
  - {name: k, key: "SECRET-key", limits: {rpm: 1}}
`), nil)
	require.NoError(t, err)
	return cfg
}

func TestSecretsNeverShown(t *testing.T) {
	cfg := secretConfig(t)
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs["fmt "+verb+" value"] = fmt.Sprintf(verb, *cfg)
		outputs["fmt "+verb+" pointer fields"] = fmt.Sprintf(verb, cfg.Providers)
		outputs["fmt "+verb+" secret"] = fmt.Sprintf(verb, cfg.Server.AdminToken)
		outputs["fmt "+verb+" metrics token"] = fmt.Sprintf(verb, cfg.Server.MetricsToken)
	}
	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	outputs["yaml"] = string(y)
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	outputs["json"] = string(j)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", "config", cfg, "token", cfg.Server.AdminToken, "key", cfg.Keys[0].Key)
		outputs[name] = buf.String()
	}
	for name, out := range outputs {
		assert.NotContains(t, out, "SECRET", name)
	}
	assert.Contains(t, outputs["yaml"], "[redacted]")
	assert.Contains(t, outputs["json"], `"api_key":"[redacted]"`)
	assert.Contains(t, outputs["slog text"], "token=[redacted]")
	// The plaintext is still there for the code that needs it.
	assert.Equal(t, "SECRET-openai", cfg.Providers[0].APIKey.Value())
}

func TestSecretString(t *testing.T) {
	assert.Equal(t, "", Secret("").String())
	assert.Equal(t, "[redacted]", Secret("x").String())
	assert.Equal(t, "[]", fmt.Sprintf("[%v]", Secret("")))
}

func TestRedacted(t *testing.T) {
	cfg := secretConfig(t)
	r := cfg.Redacted()
	assert.Equal(t, Secret("[redacted]"), r.Server.AdminToken)
	assert.Equal(t, Secret("[redacted]"), r.Providers[0].APIKey)
	assert.Equal(t, Secret("[redacted]"), r.Providers[0].Headers["X-Org"])
	assert.Equal(t, Secret("[redacted]"), r.Keys[0].Key)
	assert.Equal(t, Secret(""), r.Providers[1].APIKey, "empty stays empty")

	// A deep copy: changing the copy leaves the original alone.
	r.Providers[0].Headers["X-Org"] = "changed"
	r.Providers[1].Mock.Seed = 99
	r.Models[0].Targets[0].Model = "changed"
	r.Keys[0].Limits.RPM = 99
	*r.Server.AccessLog = false
	assert.Equal(t, "SECRET-header", cfg.Providers[0].Headers["X-Org"].Value())
	assert.Equal(t, int64(1), cfg.Providers[1].Mock.Seed)
	assert.Equal(t, "x", cfg.Models[0].Targets[0].Model)
	assert.Equal(t, int64(1), cfg.Keys[0].Limits.RPM)
	assert.True(t, cfg.AccessLogEnabled())
	assert.Equal(t, "SECRET-openai", cfg.Providers[0].APIKey.Value())
}

func TestMarshalledConfigParsesBack(t *testing.T) {
	cfg := secretConfig(t)
	y, err := yaml.Marshal(cfg.Redacted())
	require.NoError(t, err)
	back, err := Parse(y, nil)
	require.NoError(t, err, string(y))
	assert.Equal(t, cfg.Redacted(), back)
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(Duration(90 * time.Second))
	require.NoError(t, err)
	assert.Equal(t, `"1m30s"`, string(b))
	var d Duration
	require.NoError(t, json.Unmarshal([]byte(`"2m"`), &d))
	assert.Equal(t, 2*time.Minute, d.Std())
	assert.EqualError(t, json.Unmarshal([]byte(`30`), &d), `durations must be strings like "30s"`)
	assert.EqualError(t, json.Unmarshal([]byte(`"x"`), &d), `invalid duration "x": want a string like "30s"`)
}

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{`"30s"`, 30 * time.Second, ""},
		{`1h30m`, 90 * time.Minute, ""},
		{`"0s"`, 0, ""},
		{`30`, 0, `durations must be strings like "30s"`},
		{`1.5`, 0, `durations must be strings like "30s"`},
		{`[1s]`, 0, `durations must be strings like "30s"`},
		{`"30"`, 0, `invalid duration "30": want a string like "30s"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var n yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte(tt.in), &n))
			var d Duration
			err := d.UnmarshalYAML(n.Content[0])
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Std())
		})
	}
}

func TestDurationNumberRejectedWithPath(t *testing.T) {
	_, err := Parse([]byte("providers: [{name: m, type: mock, mock: {latency: 5}}]\n"), nil)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), `providers[0].mock.latency: durations must be strings like "30s"`), err.Error())
}
