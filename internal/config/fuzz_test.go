package config

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		minimal,
		"server: {listen: \"${L:-:1}\", admin_token: $$x}\n",
		"a: &a {x: 1}\nb: {<<: [*a, *a]}\n",
		"providers: [{name: p, type: mock, mock: {latency: 5}}]\n",
		"keys: [{name: k, key: \"${K}\", limits: {rpm: ${R}}}]\n",
		"providers: [{name: p, type: mock}]\npricing: [{provider: p, model: m, input_per_mtok: .nan, output_per_mtok: 1e400, " +
			"long_context: {threshold_tokens: -1, input_per_mtok: 0.0000001, output_per_mtok: ${R}}}]\n",
		"server: [\n",
		"- x\n",
	} {
		f.Add([]byte(seed))
	}
	if data, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(data)
	}
	env := envOf(map[string]string{"K": "v", "R": "5", "L": "a: b\nc"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, env)
		if err != nil {
			if cfg != nil {
				t.Fatal("non-nil config with an error")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse returned a config that does not validate: %v", err)
		}
		// Whatever parsed must survive marshalling.
		if _, err := yaml.Marshal(cfg.Redacted()); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
