package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the doc comments of the configuration types")

// referencePath is the generated configuration reference.
const referencePath = "../../docs/configuration.md"

// referenceCommand regenerates it.
const referenceCommand = "go test ./internal/config -run TestReference -update"

// docs/configuration.md is the reference of every key of the
// configuration file, written from the doc comments of the fields they
// are read into: a field added, renamed or documented differently shows
// there once -update has been run, and the build fails until it has. A
// field without a doc comment fails it too, and so does a key the parsed
// source and the compiled types disagree on.
func TestReference(t *testing.T) {
	src, err := parseSource(".")
	if err != nil {
		t.Fatal(err)
	}
	secs := src.sections()
	if len(src.problems) > 0 {
		t.Fatalf("the configuration reference cannot be written:\n%s", strings.Join(src.problems, "\n"))
	}

	var parsed []string
	types := map[string]string{}
	for _, sec := range secs {
		parsed = append(parsed, sec.Key.Path)
		types[sec.Key.Path] = sec.Key.Type
		for _, k := range sec.Keys {
			parsed = append(parsed, k.Path)
			types[k.Path] = k.Type
		}
	}
	compiled := map[string]bool{}
	reflectKeys(reflect.TypeFor[Config](), "", compiled)
	var missing, extra []string
	for p := range compiled {
		if !slices.Contains(parsed, p) {
			missing = append(missing, p)
		}
	}
	for _, p := range parsed {
		if !compiled[p] {
			extra = append(extra, p)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("the keys read from the source and from the compiled types differ:\nmissing from the source walk: %v\nnot in the compiled types: %v", missing, extra)
	}
	for path, want := range map[string]string{
		"server.shutdown_timeout":            "duration",
		"server.max_body_bytes":              "integer",
		"server.access_log":                  "boolean",
		"providers":                          "list of objects",
		"providers[].api_key":                "secret",
		"providers[].headers":                "map of secrets",
		"keys[].models":                      "list of strings",
		"keys[].max_cost_usd":                "number",
		"models[].routes[].match.key_labels": "map of strings",
		"server.tls":                         "object",
	} {
		if types[path] != want {
			t.Errorf("%s: type %q, want %q", path, types[path], want)
		}
	}

	got := referenceMarkdown(secs)
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (generate it: %s)", err, referenceCommand)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("docs/configuration.md is out of date; run %s (-file +generated):\n%s", referenceCommand, diff)
	}
}

// referenceMarkdown writes the reference.
func referenceMarkdown(secs []refSection) []byte {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	fmt.Fprintf(&b, "<!-- Generated from the doc comments of internal/config by\n     %s\n     Do not edit by hand. -->\n\n", referenceCommand)
	b.WriteString(referenceIntro)
	n := 0
	for _, sec := range secs {
		n += 1 + len(sec.Keys)
	}
	fmt.Fprintf(&b, "\n## Contents\n\n%d keys in %d sections:\n\n", n, len(secs))
	for _, sec := range secs {
		fmt.Fprintf(&b, "- [%s](#%s) (%s, %d keys below it)\n", sec.Key.Path, sec.Key.Path, sec.Key.Type, len(sec.Keys))
	}
	for _, sec := range secs {
		fmt.Fprintf(&b, "\n## %s\n\n`%s`: %s. %s\n", sec.Key.Path, sec.Key.Path, sec.Key.Type, mdText(sec.Intro))
		if len(sec.Keys) == 0 {
			continue
		}
		b.WriteString("\n| key | type | description |\n| --- | --- | --- |\n")
		for _, k := range sec.Keys {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Path, k.Type, strings.ReplaceAll(mdText(k.Doc), "|", `\|`))
		}
	}
	return []byte(b.String())
}

// referenceIntro explains the page and its types.
const referenceIntro = "Every key of the configuration file (`llmgw serve --config llmgw.yaml`), section by section,\n" +
	"with its type and what it means, as documented beside its field in internal/config.\n" +
	"`llmgw validate --config llmgw.yaml` checks a file and lists every problem by its path; an\n" +
	"unknown key is one. `${VAR}` and `${VAR:-default}` are expanded from the environment in every\n" +
	"value.\n\n" +
	"A key's path joins the keys above it with dots; `[]` stands for any item of a list\n" +
	"(`providers[].api_key` is the `api_key` of each entry of `providers`), `<name>` for any\n" +
	"entry of a map. The types:\n\n" +
	"| type | written as |\n| --- | --- |\n" +
	"| string | a YAML string |\n" +
	"| integer | a whole number |\n" +
	"| number | a number, such as `0.5` |\n" +
	"| boolean | `true` or `false` |\n" +
	"| duration | a string such as `\"30s\"`, `\"2m\"` or `\"1h30m\"`; a bare number is refused |\n" +
	"| secret | a string never shown in logs or output, which may instead be a reference (`file:`, `vault:`, `aws-sm:`, `azure-kv:`) to fetch it from: [secrets.md](secrets.md) |\n" +
	"| list of ... | a YAML sequence of such items |\n" +
	"| map of ... | a YAML mapping from names of your choice to such values |\n" +
	"| object | a YAML mapping of the keys listed below it |\n"

// mdText escapes text for Markdown outside its code spans: the angle
// brackets of placeholders ("<token>") would be read as HTML, and the
// stars of patterns ("*.localhost") as emphasis.
func mdText(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 {
		if i == len(parts)-1 && len(parts) > 1 && len(parts)%2 == 0 {
			break // an unclosed backtick: leave the rest as it is
		}
		parts[i] = strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`).Replace(parts[i])
	}
	return strings.Join(parts, "`")
}
