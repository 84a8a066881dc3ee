package conformance

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite docs/compatibility.md from the suite's results")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

// TestConformance runs every scenario for every pair and mode, then checks
// (or, with -update, writes) docs/compatibility.md.
func TestConformance(t *testing.T) {
	table := NewTable()
	complete := true
	for _, sc := range Scenarios() {
		for _, m := range sc.Modes {
			row := sc.Name
			if len(sc.Modes) > 1 {
				row += " (" + string(m) + ")"
			}
			for _, p := range Pairs() {
				why := sc.NA(p, m)
				if why == "" && p.Client == Responses {
					why = responsesNA(sc)
				}
				if why != "" {
					table.Set(row, p, Outcome{Status: "n/a", Reason: why})
					continue
				}
				ran := false
				ok := t.Run(row+"/"+p.String(), func(t *testing.T) {
					ran = true
					h := NewHarnessWith(t, Options{Translate: p.Translated, StreamIdleTimeout: sc.StreamIdleTimeout})
					c := &Case{Pair: p, Mode: m, H: h}
					if sc.Model != nil {
						c.Model = sc.Model(p)
					}
					runCase(t, sc, c)
				})
				if !ran {
					complete = false // filtered out by -run
					continue
				}
				status := "pass"
				if !ok {
					status = "fail"
				}
				table.Set(row, p, Outcome{Status: status})
			}
		}
	}
	t.Logf("cells: %v", table.Counts())
	if !complete {
		t.Log("some cases were filtered out: docs/compatibility.md not checked")
		return
	}
	checkDoc(t, Document(table))
}

func runCase(t *testing.T, sc Scenario, c *Case) {
	if sc.Run != nil {
		sc.Run(t, c)
		return
	}
	if sc.Script != nil {
		c.Fake().Enqueue(sc.Script(t, c)...)
	}
	body, ok := sc.Request[c.Client()]
	if !ok {
		t.Fatalf("scenario %q has no %s request", sc.Name, c.Pair.Client)
	}
	sc.Check(t, c, c.Send(t, body))
}

// checkDoc compares the generated page with the committed one, or writes it
// with -update.
func checkDoc(t *testing.T, got []byte) {
	path := filepath.Join(repoRoot(t), "docs", "compatibility.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("docs/compatibility.md is not what the suite produced; regenerate it with\n"+
			"  go test ./internal/conformance -run Conformance -update\ngenerated:\n%s", got)
	}
}

// repoRoot is the directory holding go.mod, above this package.
func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

func TestTableMarkdown(t *testing.T) {
	tb := NewTable()
	tb.Set("text (unary)", Pair{Client: OpenAI, Upstream: OpenAI}, Outcome{Status: "pass"})
	tb.Set("text (unary)", Pair{Client: Anthropic, Upstream: OpenAI}, Outcome{Status: "n/a", Reason: "because"})
	tb.Set("thinking", Pair{Client: OpenAI, Upstream: OpenAI}, Outcome{Status: "n/a", Reason: "because"})
	tb.Set("thinking", Pair{Client: Anthropic, Upstream: Anthropic}, Outcome{Status: "fail"})
	tb.Set("thinking", Pair{Client: Anthropic, Upstream: Anthropic, Translated: true}, Outcome{Status: "pass"})
	md := string(tb.Markdown())
	for _, want := range []string{
		"| scenario | openai → openai | openai → openai (translated) | openai → anthropic | openai → mistral | openai → ollama | openai → gemini | openai → azure | openai → vllm | openai → cohere | openai → vertex | openai → vertex-anthropic | openai → bedrock | openai → bedrock-anthropic | anthropic → openai | anthropic → anthropic | anthropic → anthropic (translated) | anthropic → mistral | anthropic → ollama | anthropic → gemini | anthropic → azure | anthropic → vllm | anthropic → cohere | anthropic → vertex | anthropic → vertex-anthropic | anthropic → bedrock | anthropic → bedrock-anthropic | responses → openai | responses → openai (translated) | responses → anthropic | responses → mistral | responses → ollama | responses → gemini | responses → azure | responses → vllm | responses → cohere | responses → vertex | responses → vertex-anthropic | responses → bedrock | responses → bedrock-anthropic |",
		"| text (unary) | pass | — | — | — | — | — | — | — | — | — | — | — | — | n/a [1] | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — |",
		"| thinking | n/a [1] | — | — | — | — | — | — | — | — | — | — | — | — | — | fail | pass | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — | — |",
		"1. because\n",
	} {
		if !bytes.Contains([]byte(md), []byte(want)) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if c := tb.Counts(); c["pass"] != 2 || c["n/a"] != 2 || c["fail"] != 1 {
		t.Errorf("counts %v", c)
	}
}
