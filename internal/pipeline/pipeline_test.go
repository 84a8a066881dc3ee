package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestChainOrder(t *testing.T) {
	var order []string
	stage := func(name string) Stage {
		return func(next Invoke) Invoke {
			return func(ctx context.Context, c *Call) (llm.Stream, error) {
				order = append(order, name)
				return next(ctx, c)
			}
		}
	}
	h := Chain(func(context.Context, *Call) (llm.Stream, error) {
		order = append(order, "terminal")
		return llm.NewSliceStream(nil), nil
	}, stage("a"), nil, stage("b"))
	if _, err := h(context.Background(), &Call{}); err != nil {
		t.Fatal(err)
	}
	if got := len(order); got != 3 || order[0] != "a" || order[1] != "b" || order[2] != "terminal" {
		t.Errorf("order = %v, want [a b terminal]", order)
	}
}

func TestBuildRunsAccessBeforeTerminal(t *testing.T) {
	denied := errors.New("denied")
	reached := false
	h := Build(func(context.Context, *Call) (llm.Stream, error) {
		reached = true
		return nil, nil
	}, Stages{Access: func(Invoke) Invoke {
		return func(context.Context, *Call) (llm.Stream, error) { return nil, denied }
	}})
	if _, err := h(context.Background(), &Call{}); !errors.Is(err, denied) || reached {
		t.Errorf("err = %v, terminal reached = %v; want access to stop the call", err, reached)
	}
}

func TestDecodedLazyAndFastPath(t *testing.T) {
	calls := 0
	c := NewChatCall("openai", []byte(`{"model":"m"}`), func(b []byte) (*llm.ChatRequest, error) {
		calls++
		return &llm.ChatRequest{Model: "m"}, nil
	})
	if !c.FastPath() {
		t.Fatal("an undecoded chat call should be on the fast path")
	}
	for range 2 {
		if r, err := c.Decoded(); err != nil || r.Model != "m" {
			t.Fatalf("Decoded = %v, %v", r, err)
		}
	}
	if calls != 1 {
		t.Errorf("decoder ran %d times, want 1", calls)
	}
	if !c.FastPath() {
		t.Error("reading the decoded request must not leave the fast path")
	}
	c.SetRequest(&llm.ChatRequest{Model: "other"})
	if c.FastPath() {
		t.Error("a changed request must leave the fast path")
	}
	c2 := NewChatCall("openai", nil, nil)
	c2.NeedBody()
	if c2.FastPath() {
		t.Error("NeedBody must leave the fast path")
	}
	if _, err := c2.Decoded(); err == nil {
		t.Error("Decoded without a decoder must fail")
	}
}

// The cost cap runs after access and before limits: a call refused for
// its cost is never counted against a limit or a budget.
func TestBuildRunsCostCapBetweenAccessAndLimits(t *testing.T) {
	var order []string
	stage := func(name string, err error) Stage {
		return func(next Invoke) Invoke {
			return func(ctx context.Context, c *Call) (llm.Stream, error) {
				order = append(order, name)
				if err != nil {
					return nil, err
				}
				return next(ctx, c)
			}
		}
	}
	refused := errors.New("over the cap")
	h := Build(func(context.Context, *Call) (llm.Stream, error) {
		order = append(order, "terminal")
		return nil, nil
	}, Stages{Access: stage("access", nil), CostCap: stage("costcap", refused), Limits: stage("limits", nil)})
	if _, err := h(context.Background(), &Call{}); !errors.Is(err, refused) {
		t.Fatalf("err = %v", err)
	}
	if len(order) != 2 || order[0] != "access" || order[1] != "costcap" {
		t.Errorf("order = %v, want [access costcap]", order)
	}
}

func TestTokenEstimateFollowsTheModel(t *testing.T) {
	c := &Call{Model: "a"}
	if _, _, ok := c.TokenEstimate(); ok {
		t.Fatal("an estimate before any was set")
	}
	c.SetTokenEstimate(3, 4)
	if p, a, ok := c.TokenEstimate(); !ok || p != 3 || a != 4 {
		t.Fatalf("TokenEstimate = %d, %d, %v", p, a, ok)
	}
	c.Model = "b"
	if _, _, ok := c.TokenEstimate(); ok {
		t.Error("an estimate counted for another model")
	}
}
