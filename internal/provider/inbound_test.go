package provider

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestParseHops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		hops   string
		loop   bool
	}{
		{"none", nil, "", false},
		{"others", []string{"a1, b2", "c3"}, "a1,b2,c3", false},
		{"own id", []string{"a1," + InstanceID()}, "", true},
		{"own id in a second line", []string{"a1", " " + InstanceID() + " "}, "", true},
		{"junk dropped", []string{"a b,\x00,é,,ok," + strings.Repeat("x", 65)}, "ok", false},
		{"max", []string{strings.TrimSuffix(strings.Repeat("g,", MaxHops), ",")}, strings.TrimSuffix(strings.Repeat("g,", MaxHops), ","), false},
		{"over max", []string{strings.Repeat("g,", MaxHops+1)}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops, loop := ParseHops(tc.values)
			if strings.Join(hops, ",") != tc.hops || loop != tc.loop {
				t.Errorf("hops %q loop %v, want %q %v", hops, loop, tc.hops, tc.loop)
			}
		})
	}
}

func TestParseAnthropicBeta(t *testing.T) {
	for _, tc := range []struct {
		values []string
		betas  string
		ok     bool
	}{
		{[]string{"a-1"}, "a-1", true},
		{[]string{" a-1 , b.2 ", "c_3,a-1"}, "a-1,b.2,c_3", true},
		{[]string{",,"}, "", true},
		{[]string{"a\r\nX-Injected: 1"}, "", false},
		{[]string{"a=b"}, "", false},
		{[]string{strings.Repeat("x", 129)}, "", false},
		{[]string{strings.Repeat("a,", 65)}, "", false},
	} {
		betas, ok := ParseAnthropicBeta(tc.values)
		if betas != tc.betas || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.values, betas, ok, tc.betas, tc.ok)
		}
	}
}

func TestMergeBetas(t *testing.T) {
	for _, tc := range []struct{ first, second, want string }{
		{"", "", ""},
		{"a", "", "a"},
		{"", "b", "b"},
		{"a,b", "b,c", "a,b,c"},
		{"a, b", "a", "a,b"},
	} {
		if got := MergeBetas(tc.first, tc.second); got != tc.want {
			t.Errorf("MergeBetas(%q, %q) = %q, want %q", tc.first, tc.second, got, tc.want)
		}
	}
}

// Every upstream request carries the hop header; a request whose client
// came through other gateways carries their ids before this one's, on a
// copy: the shared static header is never written to.
func TestRequestHeaderHops(t *testing.T) {
	base, _ := StaticHeader(map[string]string{HopHeader: "forged"})
	if got := base.Get(HopHeader); got != InstanceID() {
		t.Fatalf("static hop %q", got)
	}
	if h := requestHeader(context.Background(), base, nil); h.Get(HopHeader) != InstanceID() {
		t.Errorf("hop %q", h.Get(HopHeader))
	}
	ctx := WithInbound(context.Background(), &Inbound{Hops: []string{"a", "b"}})
	extra := func(context.Context) http.Header { return http.Header{"X-Extra": {"1"}} }
	h := requestHeader(ctx, base, extra)
	if h.Get(HopHeader) != "a,b,"+InstanceID() || h.Get("X-Extra") != "1" {
		t.Errorf("header %v", h)
	}
	if base.Get(HopHeader) != InstanceID() || base.Get("X-Extra") != "" {
		t.Errorf("static header written to: %v", base)
	}
}

// Whatever a client sends, what the gateway sends on is plain names only,
// never its own id, and bounded.
func FuzzInboundHeaders(f *testing.F) {
	f.Add("a-1, b.2,,c_3")
	f.Add("x\r\nInjected: 1")
	f.Add(InstanceID())
	f.Add(strings.Repeat("g,", 70))
	f.Fuzz(func(t *testing.T, v string) {
		hops, loop := ParseHops([]string{v})
		if loop && hops != nil || len(hops) > MaxHops {
			t.Fatalf("hops %q loop %v", hops, loop)
		}
		for _, h := range hops {
			if !plainName(h, maxHopID, false) || h == InstanceID() {
				t.Fatalf("hop %q sent on", h)
			}
		}
		betas, ok := ParseAnthropicBeta([]string{v})
		if !ok {
			return
		}
		for _, b := range strings.Split(betas, ",") {
			if betas != "" && !plainName(b, maxBetaName, true) {
				t.Fatalf("beta %q sent on", b)
			}
		}
	})
}
