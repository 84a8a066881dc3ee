// Package hostile holds tests that drive the built llmgw binary the way a
// hostile client and a misbehaving upstream would: deeply nested and
// duplicated JSON, slow and never-ending bodies, reflected values of any
// size, upstreams that answer garbage, echo credentials, drip, hang or ask
// for an absurd Retry-After, thousands of streams cancelled at once and a
// SIGTERM with streams open. Every case checks the answer (status, error
// shape in the route's protocol, a time bound), that no secret of the
// configuration appears in any response, log line, metric or admin answer,
// and that goroutines and file descriptors come back near their baseline.
//
// The binary is built once, in TestMain, and each test starts it on a
// config of its own in front of an httptest upstream (upstream_test.go)
// whose misbehaviour is chosen per request by the upstream model name.
package hostile
