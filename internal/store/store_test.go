package store

import (
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, id := range []string{"key_0001", "tnt_x", "a/b+c="} {
		got, err := After(Cursor(id))
		if err != nil || got != id {
			t.Errorf("After(Cursor(%q)) = %q, %v", id, got, err)
		}
	}
	if got, err := After(""); got != "" || err != nil {
		t.Errorf(`After("") = %q, %v`, got, err)
	}
	for _, c := range []string{"***", "YQ=", string(make([]byte, 200))} {
		if _, err := After(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("After(%q): %v, want ErrInvalid", c, err)
		}
	}
}

func TestLimit(t *testing.T) {
	for in, want := range map[int]int{-1: DefaultLimit, 0: DefaultLimit, 1: 1, MaxLimit: MaxLimit, MaxLimit + 1: MaxLimit} {
		if got := Limit(in); got != want {
			t.Errorf("Limit(%d) = %d, want %d", in, got, want)
		}
	}
}

// IDs sort in creation order, so that lists ordered by ID are too.
func TestNewIDOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewID(KeyPrefix, t0), NewID(KeyPrefix, t0.Add(time.Nanosecond))
	if !(a < b) {
		t.Fatalf("%s is not before %s", a, b)
	}
	if c, d := NewID(KeyPrefix, t0), NewID(KeyPrefix, t0); c == d {
		t.Fatal("two IDs at the same instant are equal")
	}
}

func TestKeyUsable(t *testing.T) {
	now := time.Now()
	for name, c := range map[string]struct {
		k    Key
		want bool
	}{
		"plain":                            {Key{}, true},
		"expires":                          {Key{ExpiresAt: now.Add(time.Minute)}, true},
		"expired":                          {Key{ExpiresAt: now}, false},
		"revoked":                          {Key{RevokedAt: now.Add(-time.Minute)}, false},
		"revoked in the future counts too": {Key{RevokedAt: now.Add(time.Minute)}, false},
	} {
		if got := c.k.Usable(now); got != c.want {
			t.Errorf("%s: Usable = %v, want %v", name, got, c.want)
		}
	}
}
