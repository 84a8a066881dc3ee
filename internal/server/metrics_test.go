package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
)

// server.metrics_token guards /metrics on the main listener too.
func TestMetricsToken(t *testing.T) {
	g := newGateway(t, strings.Replace(baseConfig, "server:\n", "server:\n  metrics_token: \"tok-123\"\n", 1), nil)
	for _, tc := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic tok-123", 401}, {"Bearer tok-123", 200}, {"bearer  tok-123 ", 200}} {
		resp, body := g.do("GET", "/metrics", "", "Authorization", tc.auth)
		if resp.StatusCode != tc.status {
			t.Errorf("Authorization %q: %d, want %d: %.200s", tc.auth, resp.StatusCode, tc.status, body)
		}
		if tc.status == 401 && (strings.Contains(body, "tok-123") || resp.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("Authorization %q: %v %s", tc.auth, resp.Header, body)
		}
	}
	// Without a token configured, /metrics stays open.
	g = newGateway(t, baseConfig, nil)
	if resp, _ := g.do("GET", "/metrics", ""); resp.StatusCode != 200 {
		t.Errorf("open /metrics: %d", resp.StatusCode)
	}
}

// RunWithMetrics serves /metrics alone on its listener, keeps it answering
// while the main listener drains, and closes both.
func TestRunWithMetricsListener(t *testing.T) {
	cfg, err := config.Parse([]byte(`
server: {metrics_listen: "127.0.0.1:1"}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- New(snap, slog.New(slog.DiscardHandler)).RunWithMetrics(ctx, ln, mln) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(addr, path string) int {
		t.Helper()
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(mln.Addr().String(), "/metrics"); c != 200 {
		t.Errorf("metrics listener /metrics: %d", c)
	}
	if c := get(mln.Addr().String(), "/v1/models"); c != 404 {
		t.Errorf("metrics listener /v1/models: %d", c)
	}
	if c := get(ln.Addr().String(), "/metrics"); c != 404 {
		t.Errorf("main listener /metrics: %d", c)
	}
	if c := get(ln.Addr().String(), "/v1/models"); c != 200 {
		t.Errorf("main listener /v1/models: %d", c)
	}
	// The requests of the main listener are in the metrics listener's
	// /metrics.
	resp, err := client.Get("http://" + mln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`llmgw_requests_total{code="",model="",provider="",route="/v1/models",status_class="2xx"} 1`,
		`llmgw_requests_total{code="not_found",model="",provider="",route="/metrics",status_class="4xx"} 1`,
		"# TYPE llmgw_upstream_duration_seconds histogram",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics listener's /metrics lacks %s:\n%s", want, text)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if c, err := net.Dial("tcp", mln.Addr().String()); err == nil {
		c.Close()
		t.Error("metrics listener still open")
	}
}
