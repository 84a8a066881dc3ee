package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOpenModelSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		rate float64
		i    int
		want time.Duration
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 2500, 2500 * time.Millisecond},
		{3, 1, 333333333},
		{0.5, 3, 6 * time.Second},
	}
	for _, tt := range tests {
		if got := intendedTime(start, tt.rate, tt.i).Sub(start); got != tt.want {
			t.Errorf("rate %v, request %d: due after %v, want %v", tt.rate, tt.i, got, tt.want)
		}
	}
	if n := arrivals(1000, 2*time.Second); n != 2000 {
		t.Errorf("arrivals(1000/s, 2s) = %d, want 2000", n)
	}
	if n := arrivals(250, 1500*time.Millisecond); n != 375 {
		t.Errorf("arrivals(250/s, 1.5s) = %d, want 375", n)
	}
}

func TestReadStream(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantEvents int
		wantErr    bool
	}{
		{"complete", "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n", 2, false},
		{"comments and crlf", ": keep-alive\r\ndata: {}\r\n\r\ndata: [DONE]\r\n\r\n", 1, false},
		{"cut before done", "data: {}\n\ndata: {}\n\n", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := readStream(strings.NewReader(tt.in), time.Now())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if o.events != tt.wantEvents {
				t.Errorf("events %d, want %d", o.events, tt.wantEvents)
			}
		})
	}
}

// TestUpstreamThroughClient drives the fake upstream with the load
// generator's client: the event counts the harness divides by must be right.
func TestUpstreamThroughClient(t *testing.T) {
	up := httptest.NewServer(upstreamHandler(upstreamOptions{tokens: 200}))
	defer up.Close()
	rp := httptest.NewServer(newRevProxy(mustURL(t, up.URL)))
	defer rp.Close()
	tests := []struct {
		name       string
		body       []byte
		stream     bool
		wantEvents int
	}{
		{"unary", chatBody("m", "", false, 64, ""), false, 0},
		{"stream with usage", chatBody("m", "", true, 200, ""), true, 203},
		{"stream of 5", chatBody("m", "x", true, 5, `,"metadata":{"bench_interval_ms":"0"}`), true, 8},
	}
	for _, base := range []string{up.URL, rp.URL} {
		c := newClient(base+"/v1/chat/completions", benchStaticKey, 1)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o, err := c.do(context.Background(), tt.body, tt.stream)
				if err != nil {
					t.Fatal(err)
				}
				if o.events != tt.wantEvents {
					t.Errorf("events %d, want %d", o.events, tt.wantEvents)
				}
			})
		}
		c.close()
	}
}

func TestClosedAndOpenRunsCount(t *testing.T) {
	up := httptest.NewServer(upstreamHandler(upstreamOptions{tokens: 3}))
	defer up.Close()
	c := newClient(up.URL, benchStaticKey, 4)
	defer c.close()
	body := chatBody("m", "", false, 64, "")
	bf := func(int) []byte { return body }
	open := runOpen(context.Background(), c, 200, 250*time.Millisecond, bf, false)
	if open.ok != 50 || open.errs != 0 || open.lat.Count() != 50 {
		t.Errorf("open run: ok %d errs %d recorded %d, want exactly 50 arrivals answered", open.ok, open.errs, open.lat.Count())
	}
	closed := runClosed(context.Background(), c, 4, 50*time.Millisecond, bf, false)
	if closed.ok == 0 || closed.errs != 0 || closed.lat.Count() != closed.ok {
		t.Errorf("closed run: ok %d errs %d recorded %d", closed.ok, closed.errs, closed.lat.Count())
	}
}

func TestUpstreamSteering(t *testing.T) {
	def := upstreamOptions{tokens: 200}
	got := def.forRequest([]byte(`{"max_tokens":7,"metadata":{"bench_latency_ms":"1.5","bench_interval_ms":"20"}}`))
	want := upstreamOptions{tokens: 7, latency: 1500 * time.Microsecond, interval: 20 * time.Millisecond}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := def.forRequest([]byte(`{}`)); got != def {
		t.Errorf("no steering: got %+v, want defaults", got)
	}
}

func TestGatewayConfigIsValid(t *testing.T) {
	// The harness's config must load in the gateway; a schema change that
	// breaks it should fail here, not in a long run.
	yaml := gatewayConfig("127.0.0.1:1", "http://127.0.0.1:2", t.TempDir(), "redis://127.0.0.1:3/0", true)
	for _, want := range []string{"tracing:\n  endpoint: \"http://127.0.0.1:2\"", "access_log: true", "keys:", benchStaticKey, benchSecret, "base_url: \"http://127.0.0.1:2/v1\"", "url: \"redis://127.0.0.1:3/0\"", "concurrent: 1000000"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("config lacks %q", want)
		}
	}
	if _, err := parseGatewayConfig(yaml); err != nil {
		t.Fatalf("gateway rejects the harness config: %v", err)
	}
}

// The key seeded in the store is one the gateway, with the harness's
// secret, resolves to the bench model's key.
func TestSeedStoreKeyIsAccepted(t *testing.T) {
	dir := t.TempDir()
	key, err := seedStore(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	st, dirc, err := openStoreKeys(t.Context(), dir, benchSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer dirc.Close()
	id, err := dirc.Lookup(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if id.Key.Name != "bench" || !id.Principal.Allows(benchModel) || id.Principal.Allows("other-model") {
		t.Errorf("seeded key %+v", id.Key)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Each target runs first in turn, round after round.
func TestOrderRotates(t *testing.T) {
	h := &harness{lab: &lab{targets: []*target{{Name: "a"}, {Name: "b"}, {Name: "c"}}}}
	var firsts []string
	for round := 1; round <= 4; round++ {
		ts := h.ordered(round)
		if len(ts) != 3 {
			t.Fatalf("round %d: %d targets", round, len(ts))
		}
		firsts = append(firsts, ts[0].Name)
	}
	if strings.Join(firsts, "") != "abca" {
		t.Errorf("first targets %v, want a b c a", firsts)
	}
	if h.lab.targets[0].Name != "a" {
		t.Error("ordering changed the lab's list")
	}
}
