package pricing

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed prices.yaml
var builtinData []byte

// Rates are the prices of the kinds of tokens a request uses.
type Rates struct {
	// Input is the price of prompt tokens neither read from nor written
	// to a prompt cache.
	Input Price
	// Output is the price of completion tokens other than reasoning ones.
	Output Price
	// CachedInput is the price of prompt tokens read from a prompt cache.
	CachedInput Price
	// CacheWrite is the price of prompt tokens written to a prompt cache
	// (with the default lifetime: five minutes at Anthropic).
	CacheWrite Price
	// CacheWrite1h is the price of prompt tokens written to a prompt cache
	// with a one-hour lifetime.
	CacheWrite1h Price
	// Reasoning is the price of completion tokens spent on reasoning.
	Reasoning Price
}

// Tier is a long-context price: every token of a request whose prompt is
// longer than Threshold tokens is priced at its Rates.
type Tier struct {
	// Threshold is the longest prompt, in tokens, priced at the base rates.
	Threshold int64
	Rates
}

// Entry prices one model of one provider.
type Entry struct {
	// Provider is the provider type (openai, anthropic, ...) of a built-in
	// entry, or the provider name of a configured one.
	Provider string
	// Model is the model id, as the upstream API takes it.
	Model string
	// Aliases are other ids of the same model at the same price.
	Aliases []string
	// Rates are the base prices.
	Rates Rates
	// Long is the long-context tier, or nil.
	Long *Tier
	// Source is the URL of the page the prices were read from, the first
	// of Sources; "config" for an entry from the configuration.
	Source string
	// Sources are the URLs of every page the prices were read from: one
	// page of the provider's own, or two or more secondary ones that agree
	// on every price of the entry.
	Sources []string
	// Secondary reports that the prices come from secondary sources (price
	// lists and articles of others than the provider), no page of the
	// provider's own having been found.
	Secondary bool
	// Read is the date (YYYY-MM-DD) the sources were last read.
	Read string
	// Note says what a reader of the table should know of the entry.
	Note string
	// Exact restricts matching to Model and Aliases: no dated snapshot or
	// version of them is priced by this entry, because the provider prices
	// its snapshots differently.
	Exact bool

	listed listedRates // which rates the source lists, for the generated page
	long   listedRates
}

// listedRates records which optional rates an entry lists explicitly; the
// others take their defaults.
type listedRates struct{ cached, write, write1h, reasoning bool }

// Source is a page the built-in table was read from.
type Source struct {
	ID    string
	Title string
	URL   string
	Read  string
	// Secondary marks a page that is not the provider's own: another
	// party's price list or article. No entry rests on one alone.
	Secondary bool
}

// Missing records what the table leaves out because no price could be read
// from the provider's own pages, nor from secondary sources that agree.
type Missing struct {
	Provider string `yaml:"provider"`
	What     string `yaml:"what"`
}

// Table is a price table: entries by provider and model, and the sources
// they come from. It is read-only once built, and safe for concurrent use.
type Table struct {
	// Read is the date the table as a whole was last checked.
	Read    string
	Sources []Source
	Entries []Entry
	// Missing lists what is left out for want of a source.
	Missing []Missing
	index   map[string]*modelIndex
}

// modelIndex finds the entry of a model among one provider's.
type modelIndex struct {
	exact map[string]*Entry
	names []named // every id and alias, longest first
}

type named struct {
	name  string
	entry *Entry
}

// add indexes e under its model id and aliases; it reports an id already
// taken.
func (x *modelIndex) add(e *Entry) error {
	for _, name := range append([]string{e.Model}, e.Aliases...) {
		if _, dup := x.exact[name]; dup {
			return fmt.Errorf("model %q is listed twice", name)
		}
		x.exact[name] = e
		if !e.Exact {
			x.names = append(x.names, named{name, e})
		}
	}
	return nil
}

// sort orders the names longest first, so that the longest listed prefix
// wins.
func (x *modelIndex) sort() {
	slices.SortStableFunc(x.names, func(a, b named) int { return len(b.name) - len(a.name) })
}

// find returns the entry of model: the one listing it exactly, else the one
// listing the longest id that model extends with "-" and a date or version
// (see versionSuffix).
func (x *modelIndex) find(model string) (*Entry, bool) {
	if x == nil {
		return nil, false
	}
	if e, ok := x.exact[model]; ok {
		return e, true
	}
	for _, n := range x.names {
		if len(model) > len(n.name)+1 && model[len(n.name)] == '-' && strings.HasPrefix(model, n.name) &&
			versionSuffix(model[len(n.name)+1:]) {
			return n.entry, true
		}
	}
	return nil, false
}

// Lookup returns the entry pricing model on the provider of type provider.
// A nil Table prices nothing.
func (t *Table) Lookup(provider, model string) (*Entry, bool) {
	if t == nil {
		return nil, false
	}
	return t.index[provider].find(model)
}

// Builtin returns the table compiled into the program, read once. It panics
// if the embedded data is invalid, which its tests rule out.
func Builtin() *Table { return builtin }

// builtin is loaded once, at package initialization.
var builtin *Table

func init() {
	t, err := parseTable(builtinData)
	if err != nil {
		panic("pricing: built-in table: " + err.Error())
	}
	builtin = t
}

// rawRates are rates as the data file writes them; absent ones take
// defaults.
type rawRates struct {
	Input        *Price `yaml:"input"`
	Output       *Price `yaml:"output"`
	CachedInput  *Price `yaml:"cached_input"`
	CacheWrite   *Price `yaml:"cache_write"`
	CacheWrite1h *Price `yaml:"cache_write_1h"`
	Reasoning    *Price `yaml:"reasoning"`
}

type rawEntry struct {
	Provider    string   `yaml:"provider"`
	Model       string   `yaml:"model"`
	Aliases     []string `yaml:"aliases"`
	rawRates    `yaml:",inline"`
	LongContext *struct {
		ThresholdTokens int64 `yaml:"threshold_tokens"`
		rawRates        `yaml:",inline"`
	} `yaml:"long_context"`
	Source  string   `yaml:"source"`
	Sources []string `yaml:"sources"`
	Note    string   `yaml:"note"`
	Exact   bool     `yaml:"exact"`
}

type rawTable struct {
	Read    string `yaml:"read"`
	Sources []struct {
		ID        string `yaml:"id"`
		Title     string `yaml:"title"`
		URL       string `yaml:"url"`
		Read      string `yaml:"read"`
		Secondary bool   `yaml:"secondary"`
	} `yaml:"sources"`
	Models  []rawEntry `yaml:"models"`
	Missing []Missing  `yaml:"missing"`
}

// UnmarshalYAML reads a price in US dollars per million tokens exactly,
// from its text rather than through a float.
func (p *Price) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errPrice
	}
	v, err := ParsePrice(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q: %w", n.Line, n.Value, err)
	}
	*p = v
	return nil
}

// resolve returns the rates r lists, with the defaults of the others: the
// cached and cache-write prices default to the input price, the 1-hour
// write to the cache-write price, the reasoning price to the output price.
func (r rawRates) resolve() (Rates, listedRates, error) {
	if r.Input == nil || r.Output == nil {
		return Rates{}, listedRates{}, errors.New("input and output prices are required")
	}
	out := Rates{Input: *r.Input, Output: *r.Output, CachedInput: *r.Input, CacheWrite: *r.Input, Reasoning: *r.Output}
	var l listedRates
	if r.CachedInput != nil {
		out.CachedInput, l.cached = *r.CachedInput, true
	}
	if r.CacheWrite != nil {
		out.CacheWrite, l.write = *r.CacheWrite, true
	}
	out.CacheWrite1h = out.CacheWrite
	if r.CacheWrite1h != nil {
		out.CacheWrite1h, l.write1h = *r.CacheWrite1h, true
	}
	if r.Reasoning != nil {
		out.Reasoning, l.reasoning = *r.Reasoning, true
	}
	return out, l, nil
}

// parseTable reads and checks a table in the data file's format.
func parseTable(data []byte) (*Table, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawTable
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	t := &Table{Read: raw.Read, Missing: raw.Missing}
	sources := make(map[string]Source, len(raw.Sources))
	for _, s := range raw.Sources {
		if s.ID == "" || !strings.HasPrefix(s.URL, "https://") || !isDate(s.Read) {
			return nil, fmt.Errorf("source %q: want an id, an https URL and the date it was read", s.ID)
		}
		src := Source(s)
		sources[s.ID] = src
		t.Sources = append(t.Sources, src)
	}
	if !isDate(t.Read) {
		return nil, fmt.Errorf("read: want a date YYYY-MM-DD, got %q", t.Read)
	}
	t.Entries = make([]Entry, 0, len(raw.Models))
	for i, r := range raw.Models {
		e, err := r.entry(sources)
		if err != nil {
			return nil, fmt.Errorf("models[%d] (%s %s): %w", i, r.Provider, r.Model, err)
		}
		t.Entries = append(t.Entries, e)
	}
	if err := t.buildIndex(); err != nil {
		return nil, err
	}
	return t, nil
}

// entry checks r and returns it as an Entry.
func (r *rawEntry) entry(sources map[string]Source) (Entry, error) {
	if r.Provider == "" || r.Model == "" {
		return Entry{}, errors.New("provider and model are required")
	}
	srcs, err := r.sources(sources)
	if err != nil {
		return Entry{}, err
	}
	rates, listed, err := r.rawRates.resolve()
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Provider: r.Provider, Model: r.Model, Aliases: r.Aliases, Rates: rates,
		Source: srcs[0].URL, Secondary: srcs[0].Secondary, Note: r.Note, Exact: r.Exact, listed: listed}
	for _, s := range srcs {
		e.Sources = append(e.Sources, s.URL)
		e.Read = max(e.Read, s.Read)
	}
	if lc := r.LongContext; lc != nil {
		if lc.ThresholdTokens <= 0 {
			return Entry{}, errors.New("long_context.threshold_tokens must be > 0")
		}
		lr, ll, err := lc.rawRates.resolve()
		if err != nil {
			return Entry{}, fmt.Errorf("long_context: %w", err)
		}
		e.Long, e.long = &Tier{Threshold: lc.ThresholdTokens, Rates: lr}, ll
	}
	return e, nil
}

// sources returns the sources r names, checked against the rule of the
// table: one page of the provider's own, or at least two secondary pages
// of different sites, never the two kinds mixed.
func (r *rawEntry) sources(known map[string]Source) ([]Source, error) {
	ids := r.Sources
	if r.Source != "" {
		if len(ids) > 0 {
			return nil, errors.New("give source or sources, not both")
		}
		ids = []string{r.Source}
	}
	if len(ids) == 0 {
		return nil, errors.New("a source is required")
	}
	out := make([]Source, 0, len(ids))
	hosts := make(map[string]bool, len(ids))
	for _, id := range ids {
		s, ok := known[id]
		if !ok {
			return nil, fmt.Errorf("unknown source %q", id)
		}
		if s.Secondary != out0(out, s).Secondary {
			return nil, errors.New("the provider's own pages and secondary sources are not mixed in one entry")
		}
		h := host(s.URL)
		if hosts[h] {
			return nil, fmt.Errorf("source %q: %s is named twice; sources must be independent", id, h)
		}
		hosts[h] = true
		out = append(out, s)
	}
	switch {
	case out[0].Secondary && len(out) < 2:
		return nil, errors.New("a price from secondary sources needs two of them that agree")
	case !out[0].Secondary && len(out) > 1:
		return nil, errors.New("an entry from the provider's own page names that page alone")
	}
	return out, nil
}

// out0 returns the first of out, or s when out is empty.
func out0(out []Source, s Source) Source {
	if len(out) == 0 {
		return s
	}
	return out[0]
}

// host returns the site of an https URL: its host, and on GitHub the
// repository too, whose owners are independent of each other.
func host(url string) string {
	rest := strings.TrimPrefix(url, "https://")
	h, path, _ := strings.Cut(rest, "/")
	if h == "github.com" || h == "raw.githubusercontent.com" {
		parts := strings.SplitN(path, "/", 3)
		if len(parts) >= 2 {
			return "github.com/" + parts[0] + "/" + parts[1]
		}
	}
	return h
}

// buildIndex indexes the entries by provider and model.
func (t *Table) buildIndex() error {
	t.index = make(map[string]*modelIndex)
	for i := range t.Entries {
		e := &t.Entries[i]
		x := t.index[e.Provider]
		if x == nil {
			x = &modelIndex{exact: make(map[string]*Entry)}
			t.index[e.Provider] = x
		}
		if err := x.add(e); err != nil {
			return fmt.Errorf("provider %s: %w", e.Provider, err)
		}
	}
	for _, x := range t.index {
		x.sort()
	}
	return nil
}

// isDate reports whether s looks like YYYY-MM-DD.
func isDate(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && digits(s[:4]) && digits(s[5:7]) && digits(s[8:])
}
