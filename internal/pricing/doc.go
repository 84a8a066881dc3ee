// Package pricing prices requests: a built-in table of USD prices per
// million tokens for the models of the providers the gateway speaks to, the
// configuration's overrides of it (config's pricing section), the cost of a
// request's usage with its breakdown, and an upper bound of a request's cost
// before it is sent, for admission against budgets.
//
// # The table
//
// The built-in table is prices.yaml, embedded in the binary and read
// once at start. Its header lists the pages the prices
// were read from and the date; docs/pricing.md is generated from it by
// TestDocPricing (-update) and fails the build when it drifts. A price is
// read from the provider's own page; when none could be found, from two or
// more secondary sources (other parties' price lists and articles, on
// different sites) that give the same number for every price of the entry,
// which the entry names and the page marks as secondary. Reading the table
// enforces that shape: one own page, or two or more secondary ones. A
// model with neither is left out, not guessed, as is one its sources
// disagree on: its cost is unknown (Lookup's ok is false), which the
// caller records as unknown, never as zero.
//
// # Matching a model id
//
// The entries of one provider are searched in this order:
//
//  1. the entry whose id or alias is the model id exactly;
//  2. the entry with the longest id or alias that the model id extends with
//     "-" and a date or version: YYYY-MM-DD, YYYYMMDD, four digits (MMDD or
//     YYMM), a three-digit revision, "v" and digits with an optional ":" and
//     digits (Bedrock's "-v1:0"), or "latest", one or more of them joined by
//     "-" ("-20240307-v1:0"). So "gpt-4o-2024-08-06" finds "gpt-4o", while
//     "gpt-4o-mini" does not find "gpt-4o", and "claude-opus-4-5" does not
//     find "claude-opus-4": a part of one or two digits is a version of the
//     model family, never a date. An entry marked exact takes part in step
//     1 only, for models whose snapshots are priced differently.
//
// Matching is case-sensitive and allocates nothing.
//
// # Lookup order
//
// A Pricer looks a model up by the name of the provider that served it:
// the configuration's entries for that provider name first (same matching
// rule), then the built-in entries for the provider's type. A configured
// entry replaces the built-in price of its model as a whole; it never
// merges with it. A name that is not a configured provider is looked up as
// a provider type.
//
// # Money
//
// Amounts are integers of picodollars (10⁻¹² USD), and prices integers of
// picodollars per token, which is also microdollars per million tokens:
// every price with up to six decimals of a dollar per million tokens is
// exact, the cost of any usage is a product of integers, and sums of
// costs are exact however many are added (a float would drift, and whole
// microdollars would round a one-token request to zero). An int64 holds
// about 9.2 million dollars; additions saturate there rather than wrap,
// and prices are capped at $100,000 per million tokens so that one
// request's cost cannot overflow before its token counts reach tens of
// millions. A budget kept in whole microdollars takes MicrosCeil.
//
// # Usage
//
// Costs are computed from llm.Usage as the canonical model defines it:
// prompt tokens include cached and cache-written ones, completion tokens
// include reasoning ones. Cached tokens are priced at the cached-input
// rate, cache writes at the cache-write rate (those of CacheCreation1hTokens
// at the 1-hour rate), the rest of the prompt at the input rate;
// reasoning tokens at the reasoning rate, which is the output rate unless
// the entry lists one, the rest of the completion at the output rate.
// Counts that contradict each other are read the way that bills more, and
// negative counts as zero, so that a confused upstream cannot lower a
// bill. When the prompt is longer than an entry's long-context threshold,
// every token of the request is priced at the tier's rates.
//
// # Estimates
//
// EstimateMax is an upper bound, as admission against a budget needs: the
// tier is chosen by the prompt's size, every prompt token is priced at the
// highest rate a prompt token of that tier can have (the input rate, or a
// cache-write rate when writing costs more, as at Anthropic), and every
// possible output token at the higher of the output and reasoning rates.
// The brief asked for the input rate only; a request writing a prompt
// cache could then cost more than its reservation, and a budget could be
// overspent by it.
//
// # Lifetimes
//
// The built-in Table belongs to the process, read-only. A Pricer belongs to
// a configuration snapshot: a reload builds a new one. Both are immutable
// and safe for concurrent use.
package pricing
