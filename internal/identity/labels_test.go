package identity_test

import (
	"maps"
	"testing"

	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
)

// A principal carries its key's labels, which routing rules match, and
// a change to them shows once synced.
func TestPrincipalLabels(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		secret, k := f.key(store.Key{Labels: map[string]string{"env": "canary"}})
		f.sync()
		p := f.mustLookup(secret).Principal
		if v, ok := p.RouteLabel("env"); !ok || v != "canary" {
			t.Errorf("RouteLabel(env) = %q, %v; want canary", v, ok)
		}
		if _, ok := p.RouteLabel("team"); ok {
			t.Error("RouteLabel(team) found a label the key does not have")
		}
		if p.RouteKey() != "id:"+k.ID {
			t.Errorf("RouteKey() = %q, want the key's ID", p.RouteKey())
		}
		if p.RouteTenant() != f.tenant.Name {
			t.Errorf("RouteTenant() = %q, want %q", p.RouteTenant(), f.tenant.Name)
		}
		l := map[string]string{"env": "prod"}
		if _, err := s.Keys().Update(t.Context(), k.ID, store.KeyPatch{Labels: &l}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		if got := f.mustLookup(secret).Principal.Labels; !maps.Equal(got, l) {
			t.Errorf("labels after the change = %v, want %v", got, l)
		}
	})
}
