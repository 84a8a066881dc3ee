package gateway

import (
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/provider"
)

// A bedrock provider compiles from its block: with api anthropic it also
// forwards Anthropic clients' bodies; both serve embeddings. One with no
// region anywhere fails to compile, saying where to set one.
func TestCompileBedrock(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	keys := config.Bedrock{Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret"}
	anth := keys
	anth.API = config.BedrockAPIAnthropic
	cfg := &config.Config{
		Providers: []config.Provider{{Name: "conv", Type: config.TypeBedrock, Bedrock: &keys}, {Name: "anth", Type: config.TypeBedrock, Bedrock: &anth}},
		Models:    []config.Model{{Name: "m", Targets: []config.Target{{Provider: "conv", Model: "x", Weight: 1}, {Provider: "anth", Model: "y", Weight: 1}}}},
	}
	cfg.ApplyDefaults()
	snap, err := Compile(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Providers["conv"].(provider.Forwarder); ok {
		t.Error("a Converse provider claims to forward Anthropic bodies")
	}
	if _, ok := snap.Providers["anth"].(provider.Forwarder); !ok {
		t.Error("an anthropic provider does not forward Anthropic bodies")
	}
	for _, name := range []string{"conv", "anth"} {
		if _, ok := snap.Providers[name].(provider.Embedder); !ok {
			t.Errorf("%s serves no embeddings", name)
		}
	}
	if strings.Contains(snap.Config.Providers[0].Bedrock.SecretAccessKey.Value(), "secret") {
		t.Error("the snapshot's config shows the secret access key")
	}

	cfg.Providers = cfg.Providers[:1]
	cfg.Providers[0].Bedrock = &config.Bedrock{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret"}
	cfg.Models[0].Targets = cfg.Models[0].Targets[:1]
	_, err = Compile(cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "no region: set bedrock.region, AWS_REGION or AWS_DEFAULT_REGION") {
		t.Errorf("compiled without a region: %v", err)
	}
}
