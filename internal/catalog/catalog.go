package catalog

import (
	"context"
	"time"

	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/router"
)

// Entry is one model of a listing.
type Entry struct {
	// ID is the name clients send.
	ID string
	// DisplayName is a human-readable name: the upstream's for a model
	// listed through a wildcard, else the ID.
	DisplayName string
	// OwnedBy is the upstream's owner of a model listed through a
	// wildcard when it says, else "llmgw".
	OwnedBy string
	// Created is the upstream's creation time of a model listed through a
	// wildcard when it says, else when the configuration was loaded.
	Created time.Time
}

// Listing is what a list is made from: one snapshot's routes.
type Listing struct {
	Router *router.Router
	// Created is when the snapshot was compiled.
	Created time.Time
	// Allows reports whether the caller may use a model; nil allows all.
	Allows func(model string) bool
}

// List returns the models of l the caller may use: the configured names,
// sorted, then for each wildcard model in configuration order the models
// its upstreams list (in their order), under its prefix, leaving out
// names another model shadows. Each ID appears once.
func (c *Cache) List(ctx context.Context, l Listing) []Entry {
	allows := l.Allows
	if allows == nil {
		allows = func(string) bool { return true }
	}
	var out []Entry
	seen := map[string]bool{}
	for _, name := range l.Router.Names() {
		if allows(name) {
			seen[name] = true
			out = append(out, Entry{ID: name, DisplayName: name, OwnedBy: "llmgw", Created: l.Created})
		}
	}
	wildcards := l.Router.Wildcards()
	// Start every fetch first, so that a first listing waits for the
	// slowest upstream, not for their sum.
	pend := make([][]pending, len(wildcards))
	for i, w := range wildcards {
		for _, p := range w.Providers {
			if ml, ok := p.(provider.ModelLister); ok {
				pend[i] = append(pend[i], c.start(ml))
			}
		}
	}
	for i, w := range wildcards {
		for _, p := range pend[i] {
			list, _ := p.wait(ctx)
			for _, m := range list {
				id := w.Prefix + m.ID
				if seen[id] || !allows(id) || l.Router.ServedBy(id) != w.Name {
					continue
				}
				seen[id] = true
				out = append(out, entryOf(id, m, l.Created))
			}
		}
	}
	return out
}

// Find returns the model id of l the caller may use, as List would list it.
func (c *Cache) Find(ctx context.Context, l Listing, id string) (Entry, bool) {
	if l.Router.ServedBy(id) == "" || l.Allows != nil && !l.Allows(id) {
		return Entry{}, false // no upstream asked about a name no route serves
	}
	for _, e := range c.List(ctx, l) {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

func entryOf(id string, m provider.ModelInfo, created time.Time) Entry {
	e := Entry{ID: id, DisplayName: m.DisplayName, OwnedBy: m.OwnedBy, Created: m.Created}
	if e.DisplayName == "" {
		e.DisplayName = id
	}
	if e.OwnedBy == "" {
		e.OwnedBy = "llmgw"
	}
	if e.Created.IsZero() {
		e.Created = created
	}
	return e
}
