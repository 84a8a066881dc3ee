package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider"
)

// selfConfig routes both models to providers whose base URL is the
// gateway's own, with retries and a fallback that would multiply the
// requests if a loop were retried.
const selfConfig = `
providers:
  - name: self-openai
    type: openai
    base_url: "${SELF}/v1"
    api_key: "sk-upstream"
  - name: self-anthropic
    type: anthropic
    base_url: "${SELF}"
    api_key: "sk-ant-upstream"
models:
  - name: oa
    targets: [{provider: self-openai, model: "oa"}]
    fallbacks: ["an"]
  - name: an
    targets: [{provider: self-anthropic, model: "an"}]
`

// selfGateway serves selfConfig on an httptest server and counts the
// requests it receives. A gateway that did not see the loop would forward
// forever: past 10 requests the listener answers a 400 itself (which is
// not retried), so that such a gateway fails the test instead of hanging it.
func selfGateway(t *testing.T) (url string, served *atomic.Int64) {
	t.Helper()
	served = &atomic.Int64{}
	var h atomic.Pointer[Server]
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 10 {
			http.Error(w, `{"error":{"message":"cut off","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		h.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	snap := compileConfig(t, selfConfig, map[string]string{"SELF": ts.URL}, gateway.Options{})
	h.Store(New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	return ts.URL, served
}

// A provider whose base URL is the gateway itself: the forwarded request
// comes back with the gateway's own hop id and is refused at once, the
// first gateway passes the 508 on without retrying or falling back, and
// the client gets loop_detected in its route's shape, told not to retry.
func TestLoopThroughOwnBaseURL(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, typ string
	}{
		{"openai", "/v1/chat/completions", `{"model":"oa","messages":[{"role":"user","content":"hi"}]}`, "error.code"},
		{"anthropic", "/v1/messages", `{"model":"an","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "error.type"},
		{"openai stream", "/v1/chat/completions", `{"model":"oa","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "error.code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, served := selfGateway(t)
			resp, err := http.Post(url+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := map[string]string{"error.code": "loop_detected", "error.type": "api_error"}[tc.typ]
			if resp.StatusCode != http.StatusLoopDetected || gjson.GetBytes(b, tc.typ).String() != want {
				t.Fatalf("status %d body %s, want 508 %s", resp.StatusCode, b, want)
			}
			if got := resp.Header.Get("X-Should-Retry"); got != "false" {
				t.Errorf("x-should-retry %q", got)
			}
			if n := served.Load(); n != 2 {
				t.Errorf("the gateway served %d requests, want 2: the client's and its one echo", n)
			}
		})
	}
}

// The hop header: the gateway's own id anywhere in the list is a loop;
// other ids are carried on, with this gateway's appended, and ids that are
// not plain names are dropped.
func TestInboundHops(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	body := `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`
	resp, b := g.do("POST", "/v1/chat/completions", body, provider.HopHeader, "other-gw, "+provider.InstanceID())
	if resp.StatusCode != http.StatusLoopDetected || gjson.Get(b, "error.code").String() != "loop_detected" {
		t.Fatalf("own id: %d %s", resp.StatusCode, b)
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Fatalf("%d upstream requests for a loop", n)
	}
	resp, b = g.do("POST", "/v1/chat/completions", body, provider.HopHeader, "gw-a,bad id!,gw-b")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("other gateways: %d %s", resp.StatusCode, b)
	}
	reqs := g.up.Requests()
	if got, want := reqs[len(reqs)-1].Header.Get(provider.HopHeader), "gw-a,gw-b,"+provider.InstanceID(); got != want {
		t.Errorf("hop header upstream %q, want %q", got, want)
	}
	long := strings.Repeat("gw,", provider.MaxHops+1)
	if resp, b = g.do("POST", "/v1/chat/completions", body, provider.HopHeader, long); resp.StatusCode != http.StatusLoopDetected {
		t.Errorf("%d hops: %d %s", provider.MaxHops+1, resp.StatusCode, b)
	}
	if resp, b = g.do("POST", "/v1/chat/completions", body); resp.StatusCode != http.StatusOK {
		t.Fatalf("no hop: %d %s", resp.StatusCode, b)
	}
	reqs = g.up.Requests()
	if got := reqs[len(reqs)-1].Header.Get(provider.HopHeader); got != provider.InstanceID() {
		t.Errorf("hop header upstream %q, want the instance id", got)
	}
}

// The start-up check names the providers whose base URL resolves to the
// listen address, and only those.
func TestSelfTargets(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "localhost":
			return []net.IPAddr{{IP: net.ParseIP("::1")}, {IP: net.ParseIP("127.0.0.1")}}, nil
		case "gw.internal":
			return []net.IPAddr{{IP: net.ParseIP("10.0.0.7")}}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	local := func() []net.IP { return []net.IP{net.ParseIP("10.0.0.7")} }
	providers := []config.Provider{
		{Name: "loopback-ip", BaseURL: "http://127.0.0.1:8080/v1"},
		{Name: "localhost", BaseURL: "http://localhost:8080"},
		{Name: "other-port", BaseURL: "http://127.0.0.1:8081/v1"},
		{Name: "default-port", BaseURL: "https://api.openai.com/v1"},
		{Name: "interface", BaseURL: "http://gw.internal:8080"},
		{Name: "unknown-host", BaseURL: "http://nowhere.invalid:8080"},
		{Name: "mock"},
	}
	for _, tc := range []struct {
		listen string
		want   []string
	}{
		{"127.0.0.1:8080", []string{"loopback-ip", "localhost"}},
		{"0.0.0.0:8080", []string{"loopback-ip", "localhost", "interface"}},
		{"10.0.0.7:8080", []string{"interface"}},
		{"127.0.0.1:9999", nil},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.listen)
		if err != nil {
			t.Fatal(err)
		}
		got := selfTargets(context.Background(), providers, addr, lookup, local)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("listen %s: %v, want %v", tc.listen, got, tc.want)
		}
	}
}

// Run logs a warning naming a provider whose base URL is the address it
// listens on.
func TestRunWarnsOfSelfTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`
providers:
  - name: myself
    type: openai
    base_url: "http://`+ln.Addr().String()+`/v1"
    api_key: "sk-x"
models:
  - name: m
    targets: [{provider: myself, model: m}]
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan slog.Record, 16)
	srv := New(snap, slog.New(recordHandler(seen)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-seen:
			var prov string
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "provider" {
					prov = a.Value.String()
				}
				return true
			})
			if prov == "myself" {
				if r.Level != slog.LevelWarn {
					t.Errorf("logged at %v, want a warning", r.Level)
				}
				return
			}
		case <-timeout:
			t.Fatal("no warning naming the provider")
		}
	}
}

// recordHandler is a slog handler sending every record to ch, dropping
// those it has no room for.
type recordHandler chan slog.Record

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h recordHandler) WithGroup(string) slog.Handler            { return h }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Clone():
	default:
	}
	return nil
}
