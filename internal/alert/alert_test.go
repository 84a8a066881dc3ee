package alert_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/alert"
)

// The example of the reference implementation's tests
// (github.com/standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go, TestWebhookSign).
func TestSignPublishedVector(t *testing.T) {
	key, err := alert.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := alert.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

// verify checks a webhook-signature header the way a receiver following
// the specification does: any of the space-separated "v1,<base64>"
// signatures may match the HMAC-SHA256 of "id.timestamp.body" under the
// secret's decoded key.
func verify(secret, id, timestamp string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "." + string(body)))
	want := m.Sum(nil)
	for _, sig := range strings.Fields(header) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, s := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + b64(23), "whsec_" + b64(65),
		"whsec_not base64!", "whsk_" + b64(32)} {
		if _, err := alert.ParseSecret(s); !errors.Is(err, alert.ErrSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrSecret", s, err)
		}
	}
	for _, n := range []int{24, 32, 64} {
		if key, err := alert.ParseSecret("whsec_" + b64(n)); err != nil || len(key) != n {
			t.Errorf("a key of %d bytes: %d, %v", n, len(key), err)
		}
	}
}

func TestCrossed(t *testing.T) {
	th := []int{50, 80, 100}
	const big = int64(9_000_000_000_000_000_000) // near the top of int64: limit×100 does not fit
	cases := []struct {
		limit, before, after int64
		want                 []int
	}{
		{1000, 0, 499, nil},
		{1000, 0, 500, []int{50}},
		{1000, 499, 500, []int{50}},
		{1000, 500, 799, nil},
		{1000, 499, 1000, []int{50, 80, 100}},
		{1000, 1000, 2000, nil},
		{1000, 900, 5000, []int{100}},
		{1001, 0, 500, nil}, // 50% of 1001 is 500.5: reached at 501
		{1001, 0, 501, []int{50}},
		{0, 0, 100, nil},
		{1000, 600, 500, nil},
		{big, big/2 - 1, big / 2, []int{50}},
		{big, 0, big - 1, []int{50, 80}},
		{big, big - 1, big, []int{100}},
	}
	for _, c := range cases {
		if got := alert.Crossed(c.limit, c.before, c.after, th); !slices.Equal(got, c.want) {
			t.Errorf("Crossed(%d, %d, %d) = %v, want %v", c.limit, c.before, c.after, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	steps := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, step := range steps {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := alert.Backoff(i + 1)
			if d < step*8/10 || d > step*12/10 || d > alert.MaxBackoff {
				t.Fatalf("backoff after attempt %d: %s, want within 20%% of %s and at most %s", i+1, d, step, alert.MaxBackoff)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff after attempt %d has no jitter: %d values in 50", i+1, len(seen))
		}
	}
}
