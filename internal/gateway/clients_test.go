package gateway

import (
	"net/http"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
)

// A provider's identity changes with what it reaches (type, address,
// credentials), not with its connection tuning; its client is kept while
// its name, address and connection settings are unchanged.
func TestProviderIdentityAndClientKeys(t *testing.T) {
	base := config.Provider{Name: "p", Type: "openai", BaseURL: "https://a.example/v1", APIKey: "sk-1",
		Headers: map[string]config.Secret{"x-org": "o1"}, MaxIdleConnsPerHost: 8}
	id := providerIdentity(&base)
	for _, tt := range []struct {
		name     string
		change   func(p *config.Provider)
		sameID   bool
		sameConn bool
	}{
		{"nothing", func(*config.Provider) {}, true, true},
		{"key", func(p *config.Provider) { p.APIKey = "sk-2" }, false, true},
		{"header value", func(p *config.Provider) { p.Headers = map[string]config.Secret{"x-org": "o2"} }, false, true},
		{"address", func(p *config.Provider) { p.BaseURL = "https://b.example/v1" }, false, false},
		{"idle connections", func(p *config.Provider) { p.MaxIdleConnsPerHost = 9 }, true, false},
		{"entra secret", func(p *config.Provider) { p.Entra = &config.Entra{ClientSecret: "s"} }, false, true},
	} {
		p := base
		tt.change(&p)
		if got := providerIdentity(&p) == id; got != tt.sameID {
			t.Errorf("%s: same identity %t, want %t", tt.name, got, tt.sameID)
		}
		if got := clientKey(&p) == clientKey(&base); got != tt.sameConn {
			t.Errorf("%s: same client %t, want %t", tt.name, got, tt.sameConn)
		}
	}
	c := NewClients(0)
	made := 0
	mk := func() *http.Client { made++; return &http.Client{} }
	k1, c1 := c.client(&base, mk)
	_, c2 := c.client(&base, mk)
	if c1 != c2 || made != 1 {
		t.Fatalf("the same provider got %d clients", made)
	}
	c.Retain(map[string]bool{k1: true})
	if c.Len() != 1 {
		t.Fatal("a used client was retired")
	}
	c.Retain(nil)
	if c.Len() != 0 {
		t.Fatal("an unused client was kept")
	}
}

// valueResolver answers every secret reference with value.
type valueResolver struct{ value string }

func (r valueResolver) ResolveSecret(*config.Secrets, string) (string, error) { return r.value, nil }

// A credential given by reference counts by its reference: the secret
// behind it rotated is the same account (its health is kept), another
// reference is another.
func TestProviderIdentityOfReferencedSecrets(t *testing.T) {
	identity := func(key, value string) string {
		t.Helper()
		doc := `providers: [{name: p, type: openai, api_key: "` + key + `", headers: {x-org: "file:/run/org"}}]`
		cfg, err := config.ParseWith([]byte(doc), nil, valueResolver{value})
		if err != nil {
			t.Fatal(err)
		}
		return providerIdentity(&cfg.Providers[0])
	}
	one := identity("file:/run/key", "sk-1")
	if identity("file:/run/key", "sk-2") != one {
		t.Error("a rotated secret changed the identity")
	}
	if identity("file:/run/other", "sk-1") == one {
		t.Error("another reference kept the identity")
	}
	if identity("sk-1", "org") == identity("sk-2", "org") {
		t.Error("a plain key changed and kept the identity")
	}
}
