// Package tokens counts the prompt tokens of a request before it is sent, so
// that admission can reserve them against tokens-per-minute limits and
// budgets. Count takes the canonical chat request, the upstream's provider
// type and its own model id; CountText and EstimateText count the input of
// an embeddings or legacy completions call.
//
// # OpenAI models: the real tokenizer
//
// For an OpenAI model id (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, the o-series,
// gpt-oss: o200k_base; gpt-4, gpt-3.5, text-embedding-3, ada-002,
// davinci-002, babbage-002: cl100k_base) on an upstream of type openai,
// azure_openai, openai_compatible or vllm, text is counted with
// github.com/tiktoken-go/tokenizer. An "openai/" prefix and a fine-tune's
// "ft:<base>:..." name count as the base model. Any other model id, on any
// of those types (an Azure deployment with a name of its own, a Llama on
// vLLM), gets the estimate.
//
// The BPE tables are embedded files (o200k_base.bpe, cl100k_base.bpe:
// every token's bytes in rank order behind an array of offsets), generated
// from the library's tables by gen/main.go (go run ./gen in this
// directory); nothing is downloaded or read at run time. The counter is
// this package's (vocab.go, bpe.go): the library's split expressions,
// compiled by regexp2 with the code the library registers for them
// (regexp2cg), and the same merges (the leftmost pair of lowest rank
// first), over the embedded tables. The library builds its tables as Go
// maps from map literals: for o200k_base 6.7 MiB of heap, and about 5 MiB
// of the binary's data touched to build it, which with the garbage
// collector's headroom cost the process about 24 MiB of resident memory.
// Here a table is read in place from the binary (2.2 MiB for o200k_base,
// 1 MiB for cl100k_base) and indexed by one array, an open-addressing hash
// table of ranks (2 MiB and 1 MiB of heap). The tests check every token of
// both tables against the library's, and counts against the library's on
// samples and under fuzzing (FuzzCountsMatchLibrary). The library's
// packages and their one dependency (github.com/dlclark/regexp2/v2) import
// no net or os package of their own (checked for v0.10.0).
//
// Each table is indexed once, on first use (sync.Once per encoding), and
// shared by every goroutine. Counting costs what the split expression
// costs (BenchmarkTokenize: 1 KB of prose, code and JSON in about 100 µs
// and 1,100 allocations, as the library; the expression allocates per
// match). Counts are cached by text (cache.go): the same system prompt,
// the earlier turns of a conversation, role names come back request after
// request, and a cached count is a hash of the text. The estimate runs at
// about 800 MB/s and does not allocate.
//
// Messages are counted the way OpenAI's cookbook ("How to count tokens with
// tiktoken") does, which matches the API's prompt_tokens there: 3 tokens per
// message, plus its role, content and name (one more for a name), plus 3
// priming the reply. The package's tests check the cookbook's example
// against the API's counts (129 on cl100k_base, 124 on o200k_base).
// gpt-3.5-turbo-0301's different framing is not modelled (retired).
//
// Function tools follow the cookbook's rule: per function 7 tokens (10 on
// cl100k_base) and "name:description", per function with properties 3, per
// property 3 and "name:type:description", per enum -3 and per value 3 plus
// the value, and 12 once. It matches the API on the cookbook's example (101
// and 105 tokens, tested). The API renders tools in a format OpenAI does not
// publish; schema keywords the rule does not know (nested objects, items,
// anyOf, a type list, additionalProperties, ...) are counted as the tokens
// of their JSON text, which is longer than the rendering's, so the count
// errs high; such a request is not exact. Assistant tool calls (name and
// arguments plus 3), structured-output schemas (their JSON text), thinking
// blocks (their text), a forced tool_choice (its name), redacted thinking
// and unknown parts are counted the same way and are not exact either.
//
// Images follow OpenAI's vision guide: detail low costs 85 tokens; high
// scales the image to fit 2048x2048, then down so that its shortest side is
// at most 768, and costs 85 plus 170 per 512-pixel tile (gpt-4o-mini: 2833
// and 5667). auto or no detail counts as high, the upper bound, and is not
// exact, since the model may choose low. The size is read from the header of
// an inline image (PNG, JPEG, GIF, WebP); an image by URL, or one whose size
// cannot be read, counts the most high detail can cost (8 tiles: 1445
// tokens) and is not exact. The patch-based image rule of gpt-4.1-mini,
// gpt-4.1-nano and o4-mini is not modelled: their images get the tile rule.
//
// # Other models: the estimate
//
// Anthropic, Gemini, Mistral, Cohere, Bedrock and any model without an
// OpenAI tokenizer get EstimateText for every text: an ASCII letter, digit
// or whitespace byte is a third of a token, ASCII punctuation 0.6, a
// two-byte character one token, a three-byte character (most of CJK) one and
// a half, a four-byte character (emoji) three, an invalid byte one.
// Overheads: 5 per message, 5 per tool call, 10 per tool, 3 per request.
// Images: the largest of Anthropic's (w*h/750, at most 1600), Gemini's (258
// per 768-pixel tile, at most 16 tiles) and OpenAI's high-detail cost; 1600
// when the size is unknown. The result is never exact.
//
// The estimate errs high on purpose, because it is reserved against limits
// and reconciled with the real usage afterwards. Against o200k_base and
// cl100k_base (TestEstimateErrsHigh, which fails if it ever counts fewer):
// English prose 1.8 times, JSON 1.7, Go code 1.1, Japanese 1.35 to 1.7,
// Russian 1.6 to 2.9, emoji 1.0 to 2.0, digits 1.0, long runs of spaces far
// more. Other vendors' tokenizers may count more than OpenAI's on the same
// text; the margin on prose is meant to cover that, but it is not measured
// here, since their tokenizers do not run offline. The margin is thinnest on
// dense code. Text it undercounts: random base64 (measured: 1.4 characters
// per token in both OpenAI encodings, so the estimate is about half the real
// count) and similar random strings pasted as text. Inline images are not
// text: they are counted by their size.
//
// # Hostile input
//
// The tokenizer's split expression backtracks over a run of whitespace that
// holds a line break: its time grows with the square of the run (measured:
// 64 KiB of " \n" took about 10 s, 1 MiB would take about 40 minutes). Its
// time on other input is linear, at 0.5 to 7 MB/s (slowest: invalid UTF-8
// and runs of digits on o200k_base). So a text holding a whitespace run
// longer than 256 bytes, and a request whose texts add up to more than
// MaxExactBytes (256 KiB), get the estimate and are not exact: the worst a
// request costs is then about 0.5 s of one core, and the estimate is linear
// and allocation-free. Invalid UTF-8 needs no care: the split expression
// reads text as runes, so each invalid byte counts as U+FFFD, which is what
// encoding/json sends upstream in its place (tested). Count never panics and
// never fails (FuzzCount).
//
// The library, and so this counter, differs from tiktoken on one
// whitespace shape: a run in
// which a line break follows other whitespace that follows a line break ("\n
// \n") is split in two, one token more than tiktoken and the API. Count
// detects such runs and reports the request as not exact.
//
// # State
//
// The two encodings, indexed once, live for the process, and so does the
// cache of counts: two generations of at most 2 MiB of text each.
package tokens
