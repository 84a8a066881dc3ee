package pricing

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// providerOrder is the order of the generated page's sections.
var providerOrder = []string{"openai", "azure_openai", "anthropic", "gemini", "vertex", "bedrock", "mistral", "cohere"}

// Markdown renders the table as the reference page docs/pricing.md.
func (t *Table) Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Prices\n\n")
	b.WriteString("<!-- Generated from internal/pricing/prices.yaml by\n" +
		"     go test ./internal/pricing -run TestDocPricing -update\n     Do not edit by hand. -->\n\n")
	fmt.Fprintf(&b, "The built-in price table, in US dollars per million tokens, read on %s from the "+
		"providers' own pages listed under [Sources](#sources) or, where no page of the provider's could "+
		"be read, from two or more secondary sources that agree on every price of the entry. It prices each request from the usage "+
		"the upstream reports; the configuration's `pricing:` section overrides or extends it per "+
		"provider name. A model that is not in the table has no known cost: the gateway records it as "+
		"unknown, never as zero.\n\n", t.Read)
	b.WriteString(rules)
	for _, p := range t.providers() {
		fmt.Fprintf(&b, "## %s\n\n", p)
		b.WriteString("| model | also matches | input | cached input | cache write (5m) | cache write (1h) | output | reasoning | long context | source |\n")
		b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
		for i := range t.Entries {
			if e := &t.Entries[i]; e.Provider == p {
				b.WriteString(e.row(t))
			}
		}
		b.WriteString("\n")
		for i := range t.Entries {
			if e := &t.Entries[i]; e.Provider == p && e.Note != "" {
				fmt.Fprintf(&b, "- `%s`: %s.\n", e.Model, e.Note)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("## Not in the table\n\n" +
		"No price could be read from the provider's own pages for these, nor from two secondary sources " +
		"that agree; price them in the " +
		"configuration's `pricing:` section until the table has them.\n\n")
	for _, m := range t.Missing {
		fmt.Fprintf(&b, "- **%s**: %s.\n", m.Provider, m.What)
	}
	b.WriteString("\n## Sources\n\n")
	for i, s := range t.Sources {
		kind := ""
		if s.Secondary {
			kind = " (secondary)"
		}
		fmt.Fprintf(&b, "%d. <a id=\"src-%s\"></a>%s, <%s>, read %s%s.\n", i+1, s.ID, s.Title, s.URL, s.Read, kind)
	}
	return b.Bytes()
}

// rules explains how the table is read.
const rules = `## How prices apply

- **Input** prices prompt tokens neither read from nor written to a prompt cache; **cached input**
  those read from one; **cache write** those written to one (Anthropic's default 5-minute lifetime),
  **cache write (1h)** those written with a one-hour lifetime. A rate a page does not list takes the
  input rate (cached input, cache write) or the 5-minute write rate (1h), shown in *italics*.
- **Output** prices completion tokens; **reasoning** tokens (thinking) are completion tokens and are
  priced at the output rate unless a reasoning rate is listed: Anthropic bills thinking tokens as
  output tokens, and OpenAI reports reasoning tokens inside completion_tokens with no rate of their own.
- **Long context**: when a request's prompt, cached and cache-write tokens included, is longer than the
  threshold, every token of the request, output included, is priced at the tier's rates.
- **Matching**: a model id matches an entry's id or alias exactly, else the longest id or alias it
  extends with "-" and a date or version (` + "`2024-08-06`, `20241022`, `0613`, `2411`, `002`, `v1:0`, `latest`" + `):
  ` + "`claude-3-5-haiku-20241022`" + ` is priced as ` + "`claude-3-5-haiku`" + `, but ` + "`gpt-4o-mini`" + ` is never priced as
  ` + "`gpt-4o`" + `, nor ` + "`claude-opus-4-5`" + ` as ` + "`claude-opus-4`" + `. An entry marked *exact* matches its id and aliases only.
- **Sources**: an entry rests on one page of its provider's own, or, when none could be read, on two
  or more *secondary* sources (another party's price list or article, marked "(secondary)" under
  [Sources](#sources)) that give the same number for every price of the entry. A rate only one of
  them lists is left out and takes its default; a model they disagree on is left out of the table.
- **Money** is counted in integer picodollars: costs and their sums are exact.

`

// providers returns the providers with entries, in page order.
func (t *Table) providers() []string {
	var out []string
	for _, p := range providerOrder {
		if _, ok := t.index[p]; ok {
			out = append(out, p)
		}
	}
	var rest []string
	for p := range t.index {
		if !slices.Contains(providerOrder, p) {
			rest = append(rest, p)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// row renders e as a table row.
func (e *Entry) row(t *Table) string {
	also := "dated snapshots"
	if e.Exact {
		also = "exact"
	}
	if len(e.Aliases) > 0 {
		also = "`" + strings.Join(e.Aliases, "`, `") + "`; " + also
	}
	long := "—"
	if e.Long != nil {
		l := e.Long
		long = fmt.Sprintf("above %d prompt tokens: input %s, cached %s, write %s / %s, output %s, reasoning %s",
			l.Threshold, l.Input, rate(l.CachedInput, e.long.cached), rate(l.CacheWrite, e.long.write),
			rate(l.CacheWrite1h, e.long.write1h), l.Output, rate(l.Reasoning, e.long.reasoning))
	}
	r := e.Rates
	refs := make([]string, 0, len(e.Sources))
	for _, u := range e.Sources {
		refs = append(refs, fmt.Sprintf("[%d](#src-%s)", t.sourceNumber(u), t.sourceID(u)))
	}
	src := strings.Join(refs, ", ")
	if e.Secondary {
		src += " (secondary)"
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		e.Model, also, r.Input, rate(r.CachedInput, e.listed.cached), rate(r.CacheWrite, e.listed.write),
		rate(r.CacheWrite1h, e.listed.write1h), r.Output, rate(r.Reasoning, e.listed.reasoning), long, src)
}

// rate formats a rate, in italics when it is a default rather than listed.
func rate(p Price, listed bool) string {
	if listed {
		return p.String()
	}
	return "*" + p.String() + "*"
}

// sourceNumber returns the 1-based position of the source with url.
func (t *Table) sourceNumber(url string) int {
	for i, s := range t.Sources {
		if s.URL == url {
			return i + 1
		}
	}
	return 0
}

// sourceID returns the id of the source with url.
func (t *Table) sourceID(url string) string {
	for _, s := range t.Sources {
		if s.URL == url {
			return s.ID
		}
	}
	return ""
}
