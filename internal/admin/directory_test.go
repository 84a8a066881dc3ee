package admin_test

import (
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/identity"
)

// Through the identity directory, an admin key's revocation and narrowing
// hold on this replica's very next request, with polling too slow to
// have seen them.
func TestDirectoryKeysSeeChangesAtOnce(t *testing.T) {
	st := admintest.SQLite(t)
	b, log := admintest.Backend(t, st)
	dir, err := identity.Open(t.Context(), identity.Options{Store: st, Hasher: b.Hasher, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	b.Keys = admin.DirectoryKeys(dir)
	e := newEnvWith(t, st, b, log)
	e.tenant("a")
	id, secret := e.key(rootToken, `{"tenant":"a","name":"ta","role":"tenant_admin"}`)
	e.must(201, "POST", "/admin/v1/keys", secret, `{"name":"k1","models":["m1"]}`) // now cached
	e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"models":["m2"]}`)
	e.must(403, "POST", "/admin/v1/keys", secret, `{"name":"k2","models":["m1"]}`)
	e.must(201, "POST", "/admin/v1/keys", secret, `{"name":"k3","models":["m2"]}`)
	e.must(200, "POST", "/admin/v1/keys/"+id+"/revoke", rootToken, "")
	e.must(401, "GET", "/admin/v1/keys", secret, "")
	e.must(401, "GET", "/admin/v1/keys", "not-a-key", "")
}
