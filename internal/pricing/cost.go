package pricing

import "github.com/llmgw/llmgw/internal/llm"

// Cost is the cost of one request, with its breakdown by kind of token.
// Total is the sum of the parts.
type Cost struct {
	Total Amount
	// Input is the cost of prompt tokens neither read from nor written to
	// a prompt cache.
	Input Amount
	// CachedInput is the cost of prompt tokens read from a prompt cache.
	CachedInput Amount
	// CacheWrite is the cost of prompt tokens written to a prompt cache,
	// both lifetimes.
	CacheWrite Amount
	// Output is the cost of completion tokens other than reasoning ones.
	Output Amount
	// Reasoning is the cost of completion tokens spent on reasoning.
	Reasoning Amount
	// LongContext reports that the prompt was long enough for the entry's
	// long-context tier.
	LongContext bool
	// Entry is the price table entry used.
	Entry *Entry
}

// tokens are a usage's token counts by the kind that is priced.
type tokens struct {
	prompt, input, cached, write, write1h, output, reasoning int64
}

// split reads u into counts by kind. Counts from the upstream are taken as
// the canonical llm.Usage defines them: prompt tokens include cached and
// cache-written ones, completion tokens include reasoning ones. Negative
// counts are read as zero, and counts that contradict each other are read
// the way that bills more (cached and written tokens above the prompt
// count raise it; reasoning tokens above the completion count raise that),
// so a confused upstream can never lower a bill.
func split(u llm.Usage) tokens {
	var t tokens
	t.cached = nonNeg(u.CachedTokens)
	t.write = nonNeg(u.CacheCreationTokens)
	t.write1h = min(nonNeg(u.CacheCreation1hTokens), t.write)
	t.prompt = max(nonNeg(u.PromptTokens), t.cached+t.write)
	t.input = t.prompt - t.cached - t.write
	t.reasoning = nonNeg(u.ReasoningTokens)
	completion := max(nonNeg(u.CompletionTokens), t.reasoning)
	t.output = completion - t.reasoning
	return t
}

// nonNeg returns n as an int64, or 0 when it is negative.
func nonNeg(n int) int64 { return int64(max(n, 0)) }

// rates returns the rates that apply to a prompt of n tokens, and whether
// they are the long-context tier's.
func (e *Entry) rates(prompt int64) (*Rates, bool) {
	if e.Long != nil && prompt > e.Long.Threshold {
		return &e.Long.Rates, true
	}
	return &e.Rates, false
}

// Cost returns the cost of usage u at e's prices. When the prompt is longer
// than the long-context tier's threshold, every token is priced at the
// tier's rates.
func (e *Entry) Cost(u llm.Usage) Cost {
	t := split(u)
	r, long := e.rates(t.prompt)
	c := Cost{
		Input:       Amount(r.Input).mul(t.input),
		CachedInput: Amount(r.CachedInput).mul(t.cached),
		CacheWrite: Amount(r.CacheWrite).mul(t.write - t.write1h).
			Add(Amount(r.CacheWrite1h).mul(t.write1h)),
		Output:      Amount(r.Output).mul(t.output),
		Reasoning:   Amount(r.Reasoning).mul(t.reasoning),
		LongContext: long,
		Entry:       e,
	}
	c.Total = c.Input.Add(c.CachedInput).Add(c.CacheWrite).Add(c.Output).Add(c.Reasoning)
	return c
}

// EstimateMax returns an upper bound of the cost of a request with a prompt
// of promptTokens tokens that may generate up to maxOutputTokens: the
// rates are those of the tier the prompt's size selects; every prompt token
// is priced at the highest price a prompt token can have (the input price,
// or a cache-write price when the model charges more for writes), every
// output token at the higher of the output and reasoning prices. Negative
// counts are read as zero.
func (e *Entry) EstimateMax(promptTokens, maxOutputTokens int) Amount {
	prompt, out := nonNeg(promptTokens), nonNeg(maxOutputTokens)
	r, _ := e.rates(prompt)
	in := max(r.Input, r.CacheWrite, r.CacheWrite1h)
	return Amount(in).mul(prompt).Add(Amount(max(r.Output, r.Reasoning)).mul(out))
}
