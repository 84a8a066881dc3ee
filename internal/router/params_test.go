package router

import (
	"context"
	"slices"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// dropping is a provider that reports the fields it left out, then fails
// with err when set.
type dropping struct {
	*scripted
	drop   []string
	refuse *bool // the attempt's choice, as seen by Chat
}

func (d *dropping) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	rep := llm.ParamReportFrom(ctx)
	if d.refuse != nil {
		*d.refuse = rep.Refuse()
	}
	rep.Drop(d.drop...)
	return d.scripted.Chat(ctx, req)
}

// The dropped fields reported are those of the attempt that served the
// call: a failed attempt's are forgotten.
func TestDroppedOfServingAttempt(t *testing.T) {
	a := &dropping{scripted: &scripted{name: "a", errs: []error{e503}}, drop: []string{"seed"}}
	b := &dropping{scripted: &scripted{name: "b"}, drop: []string{"thinking"}}
	c := &dropping{scripted: &scripted{name: "c"}}
	for _, tt := range []struct {
		fallback *dropping
		want     []string
	}{{b, []string{"thinking"}}, {c, nil}} {
		a.scripted.calls = nil
		r := New([]Model{
			fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1}, Fallbacks: []string{"fb"}, Targets: []Target{{Provider: a, Model: "x", Weight: 1}}}),
			fast(Model{Name: "fb", Targets: []Target{{Provider: tt.fallback, Model: "f", Weight: 1}}}),
		}, Options{})
		call := chatCall("m", false)
		s, err := r.Invoke(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		served(t, s)
		if call.Attempts != 2 || !slices.Equal(call.Dropped, tt.want) {
			t.Errorf("after %d attempts, dropped %v, want %v", call.Attempts, call.Dropped, tt.want)
		}
	}
}

// The operator's choice of refusing droppable fields reaches the adapter.
func TestRefuseUnsupportedReachesAdapter(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		got := !refuse
		a := &dropping{scripted: &scripted{name: "a"}, refuse: &got}
		r := New([]Model{fast(Model{Name: "m", Targets: []Target{{Provider: a, Model: "x", Weight: 1}}})}, Options{})
		call := chatCall("m", false)
		call.RefuseUnsupported = refuse
		s, err := r.Invoke(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		served(t, s)
		if got != refuse {
			t.Errorf("adapter saw refuse %v, want %v", got, refuse)
		}
	}
}
