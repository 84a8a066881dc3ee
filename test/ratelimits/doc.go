// Package ratelimits runs real llmgw processes sharing one Redis: a static
// key's requests-per-minute limit holds across both (200 concurrent
// requests split over two processes admit the limit, not twice it), and a
// Redis stopped in the middle of load (a server of the test's own) makes
// the gateways fail open to their own memory or closed with 503, as
// configured, in bounded time, and recover when it returns. The tests need
// LLMGW_TEST_REDIS_URL (a redis:// URL) and redis-server on the PATH; in CI
// (CI=true) their absence is a failure.
package ratelimits
