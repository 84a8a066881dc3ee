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
// Log lines are slog's JSON lines (NewLogger) written through a LogWriter,
// which buffers them: the access log writes a line per request, and one
// write(2) for many lines instead of one each was a measured share of the
// gateway's CPU under load. The buffer is written out when it passes its
// size, within an interval (a timer armed only while it holds something),
// at once after a WARN or ERROR line, and on Close, which the serve path
// calls after the server has drained, so that a clean exit loses no line.
// A crash loses at most the last interval's lines.
package observe
