// Package providertest holds fake upstream servers for tests: httptest
// servers that speak the real wire format of each upstream API, replaying
// captures written from the official API references (SSE frames, error bodies,
// an error inside a 200 stream, truncated streams) and able to misbehave on
// demand (split writes, holds, abrupt hang-ups).
//
// Captures live in testdata/<protocol>/ and are read with Load, which
// resolves them relative to this package so that tests of any package can
// use them.
package providertest
