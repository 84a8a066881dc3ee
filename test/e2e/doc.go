// Package e2e holds end-to-end tests that drive the gateway, running in
// process on a loopback listener, with the official client SDKs
// (github.com/anthropics/anthropic-sdk-go and github.com/openai/openai-go),
// in front of the fake upstreams of package providertest. What the SDKs
// assemble, unary and streamed, is what real clients will see.
package e2e
