package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
)

// A budget's spending crossing its thresholds sends each alert once,
// signed as Standard Webhooks has it; its first refusal sends the 100 %
// alert.
func TestBudgetAlerts(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var mu sync.Mutex
	var got []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(r.Header.Get("Webhook-Id") + "." + r.Header.Get("Webhook-Timestamp") + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		if r.Header.Get("Webhook-Signature") != want {
			t.Errorf("signature %q, want %q", r.Header.Get("Webhook-Signature"), want)
		}
		mu.Lock()
		got = append(got, string(body))
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	yaml := budgetConfig + "alerts:\n  webhook: {url: \"" + rc.URL + "\", secret: \"" + secret + "\"}\n"
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return "http://127.0.0.1:1", k == "UPSTREAM" })
	if err != nil {
		t.Fatal(err)
	}
	st := admintest.SQLite(t)
	alerts, err := gateway.OpenAlerts(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(alerts.Close)
	g := newGateway(t, budgetConfig, nil)
	g.srv.Swap(compileConfig(t, yaml, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Alerts: alerts}))

	// The thresholds the admitted requests' costs cross, then 100 for
	// the refusal.
	var want []int
	spent := int64(0)
	for i := 0; i < 50; i++ {
		resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer sk-daily-key")
		if resp.StatusCode == 429 {
			want = append(want, 100)
			break
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		cost := int64(math.Round(costOf(t, resp.Header.Get("X-Llmgw-Cost-Usd")) * 1e12))
		want = append(want, alert.Crossed(1e11, spent, spent+cost, []int{50, 80, 100})...)
		spent += cost
		time.Sleep(20 * time.Millisecond) // the settle, off the request's path
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // nothing more should come
	mu.Lock()
	defer mu.Unlock()
	var thresholds []int
	for _, b := range got {
		if gjson.Get(b, "type").String() != "budget.threshold_crossed" || gjson.Get(b, "data.subject").String() != "key:daily" ||
			gjson.Get(b, "data.period").String() != "daily" || gjson.Get(b, "data.limit_usd").String() != "0.1" {
			t.Errorf("alert %s", b)
		}
		thresholds = append(thresholds, int(gjson.Get(b, "data.threshold_percent").Int()))
	}
	if len(want) < 2 || !slices.Equal(thresholds, want) {
		t.Fatalf("alerts for thresholds %v, want %v, once each: %q", thresholds, want, got)
	}
}
