package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

func TestKeysLookupAndModels(t *testing.T) {
	ks := NewKeys([]Key{
		{Name: "ci", Secret: "sk-ci-123", Tenant: "acme", Models: []string{"gpt-4o-mini", "openai/*"}},
		{Name: "all", Secret: "sk-all-456"},
		{Name: "none", Secret: "sk-none-789", Models: []string{}},
	})
	tests := []struct {
		key, model string
		wantName   string
		allowed    bool
	}{
		{"sk-ci-123", "gpt-4o-mini", "ci", true},
		{"sk-ci-123", "mock", "ci", false},
		{"sk-ci-123", "openai/gpt-4.1", "ci", true},
		{"sk-ci-123", "openai/", "ci", false},
		{"sk-all-456", "anything", "all", true},
		// An empty list is not an absent one: it allows nothing.
		{"sk-none-789", "gpt-4o-mini", "none", false},
		{"sk-none-789", "openai/gpt-4.1", "none", false},
	}
	for _, tt := range tests {
		p := ks.Lookup(tt.key)
		if p == nil || p.KeyName != tt.wantName {
			t.Fatalf("Lookup(%q) = %+v, want key %q", tt.key, p, tt.wantName)
		}
		if got := p.Allows(tt.model); got != tt.allowed {
			t.Errorf("%s Allows(%q) = %v, want %v", tt.wantName, tt.model, got, tt.allowed)
		}
	}
	for _, bad := range []string{"", "sk-ci-12", "sk-ci-1234", "SK-CI-123"} {
		if p := ks.Lookup(bad); p != nil {
			t.Errorf("Lookup(%q) = %+v, want nil", bad, p)
		}
	}
	if p := ks.Lookup("sk-ci-123"); p.Tenant != "acme" {
		t.Errorf("tenant = %q", p.Tenant)
	}
}

// Keys must not keep the plaintext anywhere in the structure.
func TestKeysHoldNoPlaintext(t *testing.T) {
	ks := NewKeys([]Key{{Name: "k", Secret: "sk-plaintext-canary"}})
	for h, e := range ks.byHash {
		if strings.Contains(string(h[:]), "canary") || strings.Contains(string(e.hash[:]), "canary") {
			t.Fatal("plaintext found in key table")
		}
		if h == [32]byte{} {
			t.Fatal("empty hash")
		}
	}
	// Two sets hash the same key differently: the hash is keyed.
	other := NewKeys([]Key{{Name: "k", Secret: "sk-plaintext-canary"}})
	if other.hash("sk-plaintext-canary") == ks.hash("sk-plaintext-canary") {
		t.Error("hashes are not keyed by a per-set secret")
	}
}

func TestAuthenticate(t *testing.T) {
	ks := NewKeys([]Key{{Name: "k", Secret: "sk-good"}})
	tests := []struct {
		name    string
		headers map[string]string
		keys    *Keys
		want    string
		wantErr bool
	}{
		{"bearer", map[string]string{"Authorization": "Bearer sk-good"}, ks, "k", false},
		{"bearer lowercase scheme", map[string]string{"Authorization": "bearer sk-good"}, ks, "k", false},
		{"x-api-key", map[string]string{"x-api-key": "sk-good"}, ks, "k", false},
		{"wrong key", map[string]string{"Authorization": "Bearer sk-bad"}, ks, "", true},
		{"basic scheme", map[string]string{"Authorization": "Basic sk-good"}, ks, "", true},
		{"none", nil, ks, "", true},
		{"no keys configured", nil, NewKeys(nil), "", false},
		{"nil keys", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/models", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			p, err := Authenticate(r, tt.keys, nil, nil)
			if tt.wantErr {
				if llm.AsError(err).Kind != llm.KindAuthentication {
					t.Fatalf("err = %v, want authentication error", err)
				}
				return
			}
			if err != nil || p.KeyName != tt.want {
				t.Fatalf("got %+v, %v; want key %q", p, err, tt.want)
			}
		})
	}
}

func TestAccessStage(t *testing.T) {
	ks := NewKeys([]Key{{Name: "k", Secret: "s", Models: []string{"a"}}})
	reached := 0
	var caller pipeline.Caller
	h := Access()(func(_ context.Context, call *pipeline.Call) (llm.Stream, error) {
		reached++
		caller = call.Caller
		return llm.NewSliceStream(nil), nil
	})
	ctx := WithPrincipal(context.Background(), ks.Lookup("s"))
	if _, err := h(ctx, &pipeline.Call{Model: "a"}); err != nil {
		t.Fatalf("allowed model: %v", err)
	}
	// The next stages see the caller on the call, not in the context.
	if caller == nil || !caller.Allows("a") || caller.Allows("b") {
		t.Errorf("call.Caller = %v, want the key's principal", caller)
	}
	_, err := h(ctx, &pipeline.Call{Model: "b"})
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindPermission || e.Status() != 403 {
		t.Fatalf("err = %v, want 403 model_not_allowed", err)
	}
	if _, err := h(context.Background(), &pipeline.Call{Model: "a"}); llm.AsError(err).Kind != llm.KindAuthentication {
		t.Errorf("no principal: err = %v", err)
	}
	if reached != 1 {
		t.Errorf("terminal reached %d times, want 1", reached)
	}
}

func BenchmarkLookup(b *testing.B) {
	keys := make([]Key, 1000)
	for i := range keys {
		keys[i] = Key{Name: "k", Secret: "sk-" + strings.Repeat("x", 40) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))}
	}
	ks := NewKeys(keys)
	b.ReportAllocs()
	for b.Loop() {
		if ks.Lookup(keys[7].Secret) == nil {
			b.Fatal("not found")
		}
	}
}

// Lookups from many goroutines at once, of keys of every length, each find
// their own key: the pooled hashes share no state between calls.
func TestKeysLookupConcurrent(t *testing.T) {
	var keys []Key
	for i := range 8 {
		keys = append(keys, Key{Name: fmt.Sprint("k", i), Secret: strings.Repeat("s", 1+i*97)})
	}
	ks := NewKeys(keys)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := keys[(g+i)%len(keys)]
				if p := ks.Lookup(k.Secret); p == nil || p.KeyName != k.Name {
					t.Errorf("Lookup(secret of %s) = %v", k.Name, p)
					return
				}
				if p := ks.Lookup(k.Secret + "x"); p != nil {
					t.Errorf("Lookup(wrong secret) = %s", p.KeyName)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSlot(t *testing.T) {
	if p := FromContext(context.Background()); p != nil {
		t.Fatalf("no principal: got %+v", p)
	}
	var s Slot
	ctx := WithSlot(context.Background(), &s)
	if p := FromContext(ctx); p != nil {
		t.Fatalf("empty slot: got %+v", p)
	}
	p := &Principal{KeyName: "k"}
	s.Set(p)
	if got := FromContext(ctx); got != p {
		t.Fatalf("slot: got %+v, want %+v", got, p)
	}
	// A principal put in the context later wins over the slot.
	q := &Principal{KeyName: "q"}
	if got := FromContext(WithPrincipal(ctx, q)); got != q {
		t.Fatalf("WithPrincipal over a slot: got %+v, want %+v", got, q)
	}
	if got := FromContext(WithPrincipal(context.Background(), q)); got != q {
		t.Fatalf("WithPrincipal: got %+v, want %+v", got, q)
	}
}
