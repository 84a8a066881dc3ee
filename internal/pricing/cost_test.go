package pricing

import (
	"math"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/stretchr/testify/require"
)

// tiered is an entry with every rate distinct, and a long-context tier.
var tiered = &Entry{
	Model: "m",
	Rates: Rates{Input: 3 * PerMTok, Output: 15 * PerMTok, CachedInput: 300_000, CacheWrite: 3_750_000,
		CacheWrite1h: 6 * PerMTok, Reasoning: 20 * PerMTok},
	Long: &Tier{Threshold: 200_000, Rates: Rates{Input: 6 * PerMTok, Output: 22_500_000, CachedInput: 600_000,
		CacheWrite: 7_500_000, CacheWrite1h: 12 * PerMTok, Reasoning: 30 * PerMTok}},
}

func TestCostBreakdown(t *testing.T) {
	u := llm.Usage{PromptTokens: 10_000, CachedTokens: 6_000, CacheCreationTokens: 3_000, CacheCreation1hTokens: 1_000,
		CompletionTokens: 2_000, ReasoningTokens: 500}
	c := tiered.Cost(u)
	// 1,000 plain input at $3, 6,000 cached at $0.30, 2,000 5m writes at
	// $3.75 and 1,000 1h writes at $6, 1,500 output at $15, 500 reasoning
	// at $20 (per million tokens).
	require.Equal(t, Cost{
		Input:       3_000 * Microdollar,
		CachedInput: 1_800 * Microdollar,
		CacheWrite:  (7_500 + 6_000) * Microdollar,
		Output:      22_500 * Microdollar,
		Reasoning:   10_000 * Microdollar,
		Total:       (3_000 + 1_800 + 13_500 + 22_500 + 10_000) * Microdollar,
		Entry:       tiered,
	}, c)
	require.Equal(t, "0.0508", c.Total.String())
}

func TestCostLongContextBoundary(t *testing.T) {
	at := tiered.Cost(usage(200_000, 1_000))
	require.False(t, at.LongContext, "a prompt of exactly the threshold is priced at the base rates")
	require.Equal(t, 200_000*3*Microdollar+1_000*15*Microdollar, at.Total)

	above := tiered.Cost(usage(200_001, 1_000))
	require.True(t, above.LongContext)
	require.Equal(t, 200_001*6*Microdollar+1_000*22_500_000*Picodollar, above.Total,
		"above the threshold every token, output included, is priced at the tier")

	// Cached and cache-written tokens count toward the threshold.
	cached := tiered.Cost(llm.Usage{PromptTokens: 200_001, CachedTokens: 150_000, CacheCreationTokens: 50_000})
	require.True(t, cached.LongContext)
	require.Equal(t, 1*6*Microdollar, cached.Input)
	require.Equal(t, Amount(150_000*600_000), cached.CachedInput)
	require.Equal(t, Amount(50_000*7_500_000), cached.CacheWrite)

	// A prompt count below the cached count is read as the cached count.
	under := tiered.Cost(llm.Usage{PromptTokens: 5, CachedTokens: 200_001})
	require.True(t, under.LongContext)
	require.Equal(t, Amount(200_001*600_000), under.Total)
}

// Counts that contradict each other never lower the bill, and negative
// counts count for nothing.
func TestCostReadsConfusedUsageUpward(t *testing.T) {
	e := &Entry{Rates: Rates{Input: 1, Output: 10, CachedInput: 100, CacheWrite: 1000, CacheWrite1h: 10000, Reasoning: 100000}}
	tests := []struct {
		name string
		u    llm.Usage
		want Cost
	}{
		{"negative", llm.Usage{PromptTokens: -5, CompletionTokens: -5, CachedTokens: -1, ReasoningTokens: -1}, Cost{}},
		{"cached above prompt", llm.Usage{PromptTokens: 10, CachedTokens: 30}, Cost{CachedInput: 3000}},
		{"writes above prompt", llm.Usage{PromptTokens: 10, CachedTokens: 5, CacheCreationTokens: 20},
			Cost{CachedInput: 500, CacheWrite: 20000}},
		{"1h writes above writes", llm.Usage{PromptTokens: 10, CacheCreationTokens: 2, CacheCreation1hTokens: 9},
			Cost{Input: 8, CacheWrite: 20000}},
		{"reasoning above completion", llm.Usage{CompletionTokens: 1, ReasoningTokens: 4}, Cost{Reasoning: 400000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Cost(tt.u)
			tt.want.Total = tt.want.Input + tt.want.CachedInput + tt.want.CacheWrite + tt.want.Output + tt.want.Reasoning
			tt.want.Entry = e
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCostSaturates(t *testing.T) {
	e := &Entry{Rates: Rates{Input: MaxPrice, Output: MaxPrice, CachedInput: MaxPrice, CacheWrite: MaxPrice,
		CacheWrite1h: MaxPrice, Reasoning: MaxPrice}}
	c := e.Cost(llm.Usage{PromptTokens: math.MaxInt, CompletionTokens: math.MaxInt, CachedTokens: math.MaxInt})
	require.Equal(t, MaxAmount, c.Total)
}

func TestEstimateMax(t *testing.T) {
	// Base tier: prompt at the highest prompt rate (the 1h write, $6),
	// output at the highest completion rate (reasoning, $20).
	require.Equal(t, 1_000*6*Microdollar+500*20*Microdollar, tiered.EstimateMax(1_000, 500))
	// The tier is chosen by the prompt: above the threshold, the tier's.
	require.Equal(t, 200_000*6*Microdollar, tiered.EstimateMax(200_000, 0))
	require.Equal(t, 200_001*12*Microdollar+10*30*Microdollar, tiered.EstimateMax(200_001, 10))
	require.Equal(t, Amount(0), tiered.EstimateMax(-1, -1))

	// It bounds every cost a request of that size can have.
	for _, u := range []llm.Usage{
		{PromptTokens: 1_000, CompletionTokens: 500},
		{PromptTokens: 1_000, CacheCreationTokens: 1_000, CacheCreation1hTokens: 1_000, CompletionTokens: 500, ReasoningTokens: 500},
		{PromptTokens: 1_000, CachedTokens: 1_000, CompletionTokens: 500, ReasoningTokens: 250},
	} {
		require.LessOrEqual(t, tiered.Cost(u).Total, tiered.EstimateMax(1_000, 500), "%+v", u)
	}

	// A plain entry: input and output rates.
	plain := &Entry{Rates: Rates{Input: 150_000, Output: 600_000, CachedInput: 75_000, CacheWrite: 150_000,
		CacheWrite1h: 150_000, Reasoning: 600_000}}
	require.Equal(t, Amount(1_000*150_000+2_000*600_000), plain.EstimateMax(1_000, 2_000))
}

func TestCostAllocatesNothing(t *testing.T) {
	p, err := New(Builtin(), testConfig())
	require.NoError(t, err)
	u := llm.Usage{PromptTokens: 1200, CompletionTokens: 300, CachedTokens: 1000, ReasoningTokens: 100}
	n := testing.AllocsPerRun(100, func() {
		if _, ok := p.Cost("anthropic-main", "claude-3-5-haiku-20241022", u); !ok {
			t.Fatal("no price")
		}
	})
	require.Zero(t, n)
}

func BenchmarkCost(b *testing.B) {
	p, err := New(Builtin(), testConfig())
	require.NoError(b, err)
	u := llm.Usage{PromptTokens: 1200, CompletionTokens: 300, CachedTokens: 1000, ReasoningTokens: 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Cost("anthropic-main", "claude-3-5-haiku-20241022", u); !ok {
			b.Fatal("no price")
		}
	}
}
