package auth

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestServerSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s1, gen, err := ServerSecret("", dir)
	if err != nil || !gen || len(s1) < 32 {
		t.Fatalf("first start: %q, %v, %v", s1, gen, err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode: %v, %v", st, err)
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v", d.Mode().Perm())
	}
	s2, gen, err := ServerSecret("", dir)
	if err != nil || gen || !bytes.Equal(s1, s2) {
		t.Fatalf("second start: %q, %v, %v; want the first secret", s2, gen, err)
	}
	if s, gen, err := ServerSecret("configured-secret-of-enough-length!!", dir); err != nil || gen || string(s) != "configured-secret-of-enough-length!!" {
		t.Fatalf("configured: %q %v %v", s, gen, err)
	}
	// A secret file others can read is refused, as is a short one.
	os.Chmod(filepath.Join(dir, SecretFile), 0o644)
	if _, _, err := ServerSecret("", dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable secret: %v", err)
	}
	os.WriteFile(filepath.Join(dir, SecretFile), []byte("short\n"), 0o600)
	os.Chmod(filepath.Join(dir, SecretFile), 0o600)
	if _, _, err := ServerSecret("", dir); err == nil {
		t.Fatal("short secret accepted")
	}
}

// Processes starting at once on one data directory agree on one secret.
func TestServerSecretConcurrentStart(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _, err := ServerSecret("", dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got[1:] {
		if !bytes.Equal(s, got[0]) {
			t.Fatalf("secrets differ: %q vs %q", s, got[0])
		}
	}
}

func TestDeriveSeparatesPurposes(t *testing.T) {
	secret := []byte("a server secret of at least thirty-two characters")
	a, b := Derive(secret, PurposeKeyHash), Derive(secret, PurposeAuditChain)
	if len(a) != 32 || bytes.Equal(a, b) || bytes.Equal(a, secret[:32]) {
		t.Fatalf("derived keys %x %x", a, b)
	}
	if !bytes.Equal(a, Derive(secret, PurposeKeyHash)) {
		t.Fatal("derivation is not deterministic")
	}
	if bytes.Equal(a, Derive([]byte("another server secret of thirty-two chars"), PurposeKeyHash)) {
		t.Fatal("the key does not depend on the secret")
	}
}

func TestNewKeySecret(t *testing.T) {
	shape := regexp.MustCompile(`^sk-llmgw-[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 100 {
		k, p := NewKeySecret()
		if !shape.MatchString(k) || p != k[:DisplayPrefixLen] || seen[k] {
			t.Fatalf("key %q prefix %q", k, p)
		}
		seen[k] = true
		if DisplayPrefix(k) != p {
			t.Fatalf("DisplayPrefix(%q) = %q", k, DisplayPrefix(k))
		}
	}
	for in, want := range map[string]string{"": "", "sk-proj-abc": "other", "sk-llmgw-\xff\xfe\xfd\xfc": "sk-llmgw-?", "sk-llmgw-ab": "other"} {
		if got := DisplayPrefix(in); got != want {
			t.Errorf("DisplayPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasherKeyed(t *testing.T) {
	a, a2, b := NewHasher([]byte("k1")), NewHasher([]byte("k1")), NewHasher([]byte("k2"))
	if a.Sum("x") != a2.Sum("x") || a.Sum("x") == b.Sum("x") || a.Sum("x") == a.Sum("y") {
		t.Fatal("hashes are not keyed and deterministic")
	}
}
