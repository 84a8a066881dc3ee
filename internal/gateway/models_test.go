package gateway

import (
	"testing"

	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
)

// Every snapshot of a process refers to the one cache of model lists it is
// given, so that a reload keeps the lists; without one, a snapshot gets
// its own.
func TestSnapshotsShareModelLists(t *testing.T) {
	cfg, err := config.Parse([]byte("models: [{name: m, targets: [{provider: mock, model: mock}]}]\nproviders: [{name: mock, type: mock}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lists := catalog.New(catalog.Options{})
	defer lists.Close()
	a, err := Compile(cfg, Options{ModelLists: lists})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(cfg, Options{ModelLists: lists})
	if err != nil {
		t.Fatal(err)
	}
	if a.Models != lists || b.Models != lists {
		t.Error("a snapshot does not use the process's cache of model lists")
	}
	own, err := Compile(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if own.Models == nil || own.Models == lists {
		t.Error("a snapshot compiled without a cache has none of its own")
	}
}
