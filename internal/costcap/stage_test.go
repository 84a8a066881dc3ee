package costcap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// prices are the estimates of the test models, picodollars; "free" has no
// price.
var prices = map[string]int64{"a": 1000, "b": 500, "c": 100, "d": 10}

// fixture is a stage over prices whose counts and calls are recorded.
type fixture struct {
	o       Options
	stage   pipeline.Invoke
	counted int
	reached []string // models the next stage saw
}

func newFixture(fallbacks map[string]string) *fixture {
	f := &fixture{}
	f.o = Options{
		Tokens: func(call *pipeline.Call) (int, int, error) {
			f.counted++
			if call.Model == "broken" {
				return 0, 0, llm.InvalidRequest("messages", "bad body")
			}
			return 10, 20, nil
		},
		Estimate: func(call *pipeline.Call, prompt, answer int) (int64, bool) {
			p, ok := prices[call.Model]
			return p, ok
		},
		Known:     func(m string) bool { return m != "unknown" },
		Fallbacks: fallbacks,
	}
	f.stage = New(f.o)(func(_ context.Context, call *pipeline.Call) (llm.Stream, error) {
		f.reached = append(f.reached, call.Model)
		return llm.NewSliceStream(nil), nil
	})
	return f
}

func (f *fixture) call(model string, header int64, caller pipeline.Caller) (*pipeline.Call, error) {
	c := &pipeline.Call{Model: model, MaxCostPico: header, Caller: caller}
	_, err := f.stage(context.Background(), c)
	return c, err
}

func capped(cost int64, models []string) *auth.Principal {
	p := auth.NewPrincipal("k", "t", models)
	p.MaxCostPico = cost
	return p
}

func TestNoCapCountsNothing(t *testing.T) {
	f := newFixture(nil)
	c, err := f.call("a", 0, capped(0, nil))
	if err != nil || f.counted != 0 || c.CostCap.Applied || len(f.reached) != 1 {
		t.Fatalf("err %v, counted %d, applied %v, reached %v", err, f.counted, c.CostCap.Applied, f.reached)
	}
}

func TestCapFromHeaderAndKey(t *testing.T) {
	for _, tc := range []struct {
		name        string
		header, key int64
		model       string
		wantErr     string // "" admits
		wantCap     int64
	}{
		{"header admits", 1000, 0, "a", "", 1000},
		{"header refuses", 999, 0, "a", "set by x-llmgw-max-cost-usd", 999},
		{"key admits", 0, 500, "b", "", 500},
		{"key refuses", 0, 499, "b", "set by this key's max_cost_usd", 499},
		{"header cannot raise the key's", 10_000, 499, "b", "set by this key's max_cost_usd", 499},
		{"header lowers the key's", 99, 10_000, "c", "set by x-llmgw-max-cost-usd", 99},
		{"unpriced", 10_000, 0, "free", "cannot be estimated", 10_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(nil)
			c, err := f.call(tc.model, tc.header, capped(tc.key, nil))
			if c.CostCap.Cap != tc.wantCap || !c.CostCap.Applied {
				t.Errorf("cap %+v, want %d", c.CostCap, tc.wantCap)
			}
			if tc.wantErr == "" {
				if err != nil || len(f.reached) != 1 || c.CostCap.Estimate != prices[tc.model] {
					t.Fatalf("err %v, reached %v, cap %+v", err, f.reached, c.CostCap)
				}
				return
			}
			e := llm.AsError(err)
			if e.Kind != llm.KindCostCapExceeded || !strings.Contains(e.Message, tc.wantErr) || len(f.reached) != 0 {
				t.Fatalf("err %v, reached %v", err, f.reached)
			}
			if e.Kind.Status() != 400 || e.Kind.Code() != "cost_cap_exceeded" || e.Kind.AnthropicType() != "invalid_request_error" {
				t.Errorf("kind maps to %d %s %s", e.Kind.Status(), e.Kind.Code(), e.Kind.AnthropicType())
			}
		})
	}
}

func TestFallbackChain(t *testing.T) {
	chain := map[string]string{"a": "b", "b": "free", "free": "c", "c": "d"}
	f := newFixture(chain)
	// b is above 200, free has no price: c is the first that fits.
	c, err := f.call("a", 200, nil)
	if err != nil || len(f.reached) != 1 || f.reached[0] != "c" || c.CostCap.Fallback != "c" || c.CostCap.Estimate != 100 {
		t.Fatalf("err %v, reached %v, cap %+v", err, f.reached, c.CostCap)
	}
	// A caller that may not use c gets d.
	f = newFixture(chain)
	c, err = f.call("a", 200, capped(0, []string{"a", "b", "d"}))
	if err != nil || c.Model != "d" || c.CostCap.Fallback != "d" {
		t.Fatalf("err %v, model %s, cap %+v", err, c.Model, c.CostCap)
	}
	// Nothing fits: refused, the call's model as asked, its own estimate.
	f = newFixture(chain)
	c, err = f.call("a", 5, nil)
	if llm.AsError(err).Kind != llm.KindCostCapExceeded || c.Model != "a" || c.CostCap.Estimate != 1000 || c.CostCap.Fallback != "" || len(f.reached) != 0 {
		t.Fatalf("err %v, model %s, cap %+v", err, c.Model, c.CostCap)
	}
	// A loop (refused by the configuration) still ends.
	f = newFixture(map[string]string{"a": "b", "b": "a"})
	if _, err := f.call("a", 5, nil); llm.AsError(err).Kind != llm.KindCostCapExceeded {
		t.Fatalf("loop: %v", err)
	}
}

func TestUnknownModelAndBadBodyPassOrFail(t *testing.T) {
	f := newFixture(nil)
	if c, err := f.call("unknown", 5, nil); err != nil || c.CostCap.Applied || len(f.reached) != 1 {
		t.Fatalf("unknown model: err %v, cap %+v; want it passed on for the router's 404", err, c.CostCap)
	}
	f = newFixture(nil)
	_, err := f.call("broken", 5, nil)
	if e := llm.AsError(err); e.Kind != llm.KindInvalidRequest || len(f.reached) != 0 {
		t.Fatalf("broken body: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected")
	}
}

// BenchmarkStage measures the stage on a call without a cap (the common
// case: a type assertion and two comparisons, nothing counted) and with
// one (counting and pricing here are the fixture's, constant).
func BenchmarkStage(b *testing.B) {
	f := newFixture(nil)
	stage := New(f.o)(func(context.Context, *pipeline.Call) (llm.Stream, error) { return nil, nil })
	p := capped(0, nil)
	for _, bc := range []struct {
		name   string
		header int64
	}{{"no-cap", 0}, {"cap", 1_000_000}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			c := &pipeline.Call{Model: "a", Caller: p}
			for b.Loop() {
				c.MaxCostPico, c.CostCap = bc.header, pipeline.CostCap{}
				if _, err := stage(context.Background(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
