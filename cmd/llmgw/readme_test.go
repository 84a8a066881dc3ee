package main

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeParts returns the README's text outside its first yaml block, and
// that block.
func readmeParts(t *testing.T) (prose, sample string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	loc := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatchIndex(b)
	if loc == nil {
		t.Fatal("README has no yaml example")
	}
	return string(b[:loc[0]]) + string(b[loc[1]:]), string(b[loc[2]:loc[3]])
}

// The README names the Go version go.mod requires.
func TestReadmeGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	prose, _ := readmeParts(t)
	if want := "Go " + string(m[1]); !strings.Contains(prose, want) {
		t.Errorf("README does not say %q, the version go.mod requires", want)
	}
}

// The README says which environment variables its config sample needs,
// and the sample does fail without them: the note stays true.
func TestReadmeSampleNeedsItsVariables(t *testing.T) {
	prose, sample := readmeParts(t)
	var vars []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(sample, -1) {
		vars = append(vars, m[1])
		if !strings.Contains(prose, "`"+m[1]+"`") {
			t.Errorf("README does not say the sample needs %s", m[1])
		}
	}
	if len(vars) == 0 {
		t.Fatal("the sample reads no variable: drop the README's note about them")
	}
	for _, v := range vars {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	var stderr bytes.Buffer
	if code := run([]string{"validate", "--config", writeFile(t, sample)}, io.Discard, &stderr); code == 0 {
		t.Error("the sample validates without its variables: the README's note is wrong")
	}
}

// The README tells users of clients that take Anthropic's base URL with
// /v1 (the Vercel AI SDK's anthropic provider) which URL to give.
func TestReadmeVercelBaseURL(t *testing.T) {
	prose, _ := readmeParts(t)
	if !regexp.MustCompile(`(?s)Vercel AI SDK.{0,200}http://127\.0\.0\.1:8080/v1"`).MatchString(prose) {
		t.Error("README does not give the Vercel AI SDK's anthropic provider its base URL with /v1")
	}
}
