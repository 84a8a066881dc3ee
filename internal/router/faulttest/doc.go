// Package faulttest puts a TCP proxy that injects faults in front of a fake
// upstream, for tests of the router over real connections: added latency,
// connection resets, connections accepted and never answered (half-open),
// responses dripped a byte at a time, and bursts of error statuses such as
// 429 with Retry-After or 503.
package faulttest
