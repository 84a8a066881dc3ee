package tokens

import (
	"strings"
	"testing"
)

// Samples of the kinds of text a prompt holds.
var estimateSamples = map[string]string{
	"english": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English. " +
		"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage. " +
		"This late pivot means we don't have time to boil the ocean for the client deliverable.",
	"code": "func (c *counter) count(s string) int {\n\tif s == \"\" {\n\t\treturn 0\n\t}\n\tif c.enc == nil {\n" +
		"\t\treturn EstimateText(s)\n\t}\n\tn, err := c.enc.tokenize(s)\n\tif err != nil {\n\t\treturn -1\n\t}\n\treturn n\n}\n",
	"json":     `{"model":"gpt-4o","messages":[{"role":"user","content":"What's the weather like in San Francisco?"}],"tools":[{"type":"function","function":{"name":"get_current_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"max_tokens":256,"temperature":0.2}`,
	"japanese": "お誕生日おめでとう。吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
	"russian":  "Съешь же ещё этих мягких французских булок, да выпей чаю. Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства.",
	"emoji":    "👍🎉🚀🔥😀👍🏽🇫🇷❤️",
	"digits":   "3141592653589793238462643383279502884197169399375105820974944592307816406286",
	"spaces":   "a" + strings.Repeat(" ", 200) + "b\n\n\n\tc",
}

// EstimateText must not count fewer tokens than either OpenAI tokenizer on
// any sample: it is reserved against limits.
func TestEstimateErrsHigh(t *testing.T) {
	for name, s := range estimateSamples {
		est := EstimateText(s)
		for _, enc := range []*encoding{o200k, cl100k} {
			n, err := enc.tokenize(s)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-8s %-11s tokens %4d estimate %4d ratio %.2f", name, enc.name, n, est, float64(est)/float64(n))
			if est < n {
				t.Errorf("%s: EstimateText = %d, %s counts %d", name, est, enc.name, n)
			}
		}
	}
}

func TestEstimateText(t *testing.T) {
	cases := map[string]int{
		"":         0,
		"abc":      1, // 3 letters: a third each
		"abcd":     2, // 4/3, rounded up
		"123":      1, // 3 digits: one
		"{};.":     3, // 4 symbols: 2.4, rounded up
		"   ":      1, // 3 spaces: a third each
		"жж":       2, // two-byte characters: one each
		"誕生":       3, // three-byte: one and a half each
		"👍":        3, // four-byte: three
		"\xff\xfe": 2, // invalid bytes: one each
		"a誕":       2, // 1/3 + 1.5, rounded up
	}
	for s, want := range cases {
		if got := EstimateText(s); got != want {
			t.Errorf("EstimateText(%q) = %d, want %d", s, got, want)
		}
	}
}

// A model without an OpenAI tokenizer, or an OpenAI model on another
// provider, gets the estimate, never exact.
func TestCountEstimatesOtherModels(t *testing.T) {
	cases := []struct{ provider, model string }{
		{"anthropic", "claude-sonnet-4-5"},
		{"gemini", "gemini-2.5-pro"},
		{"mistral", "mistral-large-latest"},
		{"cohere", "command-r-plus"},
		{"bedrock", "openai.gpt-oss-120b-1:0"},
		{"anthropic", "gpt-4o"},
		{"vllm", "meta-llama/Llama-3.1-8B-Instruct"},
		{"openai_compatible", "mistral-small"},
		{"azure_openai", "my-deployment"},
		{"mock", "gpt-4o"},
	}
	r := chatOf("Let's circle back when we have more bandwidth.")
	want := estimatePerRequest + estimatePerMessage + EstimateText("Let's circle back when we have more bandwidth.")
	for _, tc := range cases {
		got, exact := Count(r, tc.provider, tc.model)
		if exact || got != want {
			t.Errorf("%s %s: Count = %d, exact %v; want the estimate %d", tc.provider, tc.model, got, exact, want)
		}
	}
}
