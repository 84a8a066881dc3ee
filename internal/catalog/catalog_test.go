package catalog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/router"
)

// listingProvider is a provider whose upstream lists ids.
type listingProvider struct {
	lister
	name string
}

func (p *listingProvider) Name() string { return p.name }

func (p *listingProvider) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return nil, llm.NewError(llm.KindInternal, "not called")
}

func newListing(name string, ids ...string) *listingProvider {
	return &listingProvider{name: name, lister: lister{key: name, results: []result{{ids: ids}}}}
}

func listIDs(entries []Entry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return strings.Join(out, ",")
}

// A wildcard lists its upstream's models under its prefix, except those
// another model serves (an exact name, a longer wildcard) and those of a
// target that does not pass the suffix on.
func TestListWildcards(t *testing.T) {
	up := newListing("up", "a", "pinned", "ft/x", "b")
	ft := newListing("ft", "y")
	fixed := newListing("fixed", "z")
	r := router.New([]router.Model{
		{Name: "up/pinned", Targets: []router.Target{{Provider: up, Model: "pinned", Weight: 1}}},
		{Name: "up/*", Targets: []router.Target{{Provider: up, Model: "*", Weight: 1}, {Provider: up, Model: "*", Weight: 1}}},
		{Name: "up/ft/*", Targets: []router.Target{{Provider: ft, Model: "*", Weight: 1}}},
		{Name: "one/*", Targets: []router.Target{{Provider: fixed, Model: "always-this", Weight: 1}}},
	}, router.Options{})
	c := New(Options{})
	defer c.Close()
	created := time.Unix(1_800_000_000, 0)
	got := c.List(context.Background(), Listing{Router: r, Created: created})
	if want := "up/pinned,up/a,up/b,up/ft/y"; listIDs(got) != want {
		t.Errorf("got %s, want %s", listIDs(got), want)
	}
	if up.count() != 1 || fixed.count() != 0 {
		t.Errorf("fetches: up %d (want 1: one per provider), fixed %d (want 0)", up.count(), fixed.count())
	}
	if got[1].Created != created || got[1].OwnedBy != "llmgw" || got[1].DisplayName != "up/a" {
		t.Errorf("defaults of an upstream model that says nothing: %+v", got[1])
	}
	only := c.List(context.Background(), Listing{Router: r, Allows: func(m string) bool { return strings.HasPrefix(m, "up/ft/") }})
	if listIDs(only) != "up/ft/y" {
		t.Errorf("filtered: %s", listIDs(only))
	}
	if _, ok := c.Find(context.Background(), Listing{Router: r}, "up/ft/x"); ok {
		t.Error("found a name another model shadows")
	}
	if e, ok := c.Find(context.Background(), Listing{Router: r}, "up/b"); !ok || e.ID != "up/b" {
		t.Errorf("find up/b: %+v %v", e, ok)
	}
}
