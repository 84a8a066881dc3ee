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
// The library ships the BPE tables as Go source (map literals): nothing is
// downloaded or read at run time. Checked for v0.10.0: its packages and
// their one dependency (github.com/dlclark/regexp2/v2) import no net or os
// package of their own (os arrives only through fmt and log), and a program
// that loads both tables and counts, run under strace, opens no socket and
// no file besides the Go runtime's /proc and /sys reads at start.
//
// Each table is built once, on first use (sync.Once per encoding), and its
// codec shared by every goroutine. Measured on the development machine:
// building o200k_base takes 90 ms when the machine is idle (up to about half
// a second under load) and holds 6.7 MiB of heap, cl100k_base 20 ms and 3.3
// MiB; the token strings themselves live in the binary's read-only data.
//
// Counting costs what the library costs (BenchmarkCount, same machine): a
// prompt of 1 KB about 120 µs, 65 KB and 1,400 allocations (the split
// expression allocates per match); one of 100 KB 30 to 45 ms and 7 MB. The
// estimate runs at about 800 MB/s and does not allocate.
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
// and allocation-free. Invalid UTF-8 needs no care: the library reads text
// as runes, so each invalid byte counts as U+FFFD, which is what
// encoding/json sends upstream in its place (tested). Count never panics and
// never fails (FuzzCount).
//
// The library also differs from tiktoken on one whitespace shape: a run in
// which a line break follows other whitespace that follows a line break ("\n
// \n") is split in two, one token more than tiktoken and the API. Count
// detects such runs and reports the request as not exact.
//
// # State
//
// The two encodings, built once, live for the process. Nothing else is kept
// between calls.
package tokens
