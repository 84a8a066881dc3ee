// Package observe holds the gateway's Prometheus registry and the writer
// its log lines go through.
//
// One Registry is created when the process starts and outlives every
// configuration snapshot: the packages that measure something declare their
// metrics beside the code they measure and register them here with
// Register, which hands back the collector already registered under the
// same name when a later snapshot registers it again. Durations are in
// seconds and label values come from the configuration, never from
// requests, so cardinality stays bounded.
//
// The registry remembers what is registered, and Metrics describes it all
// (name, type, help, labels): docs/metrics.md is generated from it by a
// test of cmd/llmgw that wires the whole process, so that the page lists
// what the process exports and cannot drift from it. Every label must say
// where its values come from and what bounds them, in labels.go; a label
// that does not fails the generation.
//
// # What the metrics cost a request
//
// Measured with BenchmarkRequestMetrics (internal/server) on a shared
// 2-core machine, each series already resolved: the server's metrics cost
// a request about 0.2 µs at its end (a count, a duration and two sizes; a
// refusal 0.3 to 0.6 µs in all, its series looked up by label), a
// stream about 0.1 µs per event written (a clock read and the gap
// observed), and the tokens and cost about 0.07 µs; none of them
// allocates. The router adds one observation per upstream attempt
// (llmgw_upstream_duration_seconds, its success series resolved per
// target). Against the whole request (BenchmarkChatFastPathInMemory, some
// 20 to 60 µs on the same machine) this is below the noise of the
// machine: the number of allocations per request is unchanged (83 for
// BenchmarkChatFastPathInMemory, 105 for BenchmarkChatStream's 204
// events), the bytes allocated grow by about 230 (the request's state, one
// allocation, holds the metrics' fields).
//
// The series a request touches are resolved once and kept by the server,
// keyed by their label values (a map replaced, not locked, when a
// combination is new), so that a request looks up no label and allocates
// nothing; their number is bounded as the labels are.
//
// Log lines are slog's JSON lines (NewLogger) written through a LogWriter,
// which buffers them: the access log writes a line per request, and one
// write(2) for many lines instead of one each was a measured share of the
// gateway's CPU under load. The buffer is written out when it passes its
// size, within an interval (a timer armed only while it holds something),
// at once after a WARN or ERROR line, and on Close, which the serve path
// calls after the server has drained, so that a clean exit loses no line.
// A crash loses at most the last interval's lines.
package observe
