package router

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

// A call with no canonical request (pipeline.Call.Native: OpenAI's legacy
// completions) can only be forwarded, so only the targets whose provider
// forwards its protocol serve it. The others are passed over as if the
// request avoided them: a model with targets of both kinds serves such a
// call from its capable targets alone, retries and fails over among them,
// and a fallback model with none is skipped. A model with none at all is
// the client's error, refused before any upstream is called.

// forwards reports whether t's provider forwards bodies of protocol p
// itself.
func forwards(t *target, p string) bool {
	ef, ok := t.Provider.(provider.EndpointForwarder)
	return ok && ef.ForwardsProtocol(p)
}

// servesNative reports whether call may go to model m: always for a call
// with a canonical request, else when a target of m that takes traffic
// forwards the call's protocol.
func (m *Model) servesNative(call *pipeline.Call) bool {
	if call.Native == nil {
		return true
	}
	for _, t := range m.targets {
		if t.Weight > 0 && forwards(t, call.Protocol) {
			return true
		}
	}
	return false
}

// avoidIncapable marks the targets of m that cannot serve call avoided,
// and reports whether that leaves none that takes traffic.
func (m *Model) avoidIncapable(call *pipeline.Call, tried map[*target]mark) bool {
	if call.Native == nil {
		return false
	}
	for _, t := range m.targets {
		if !forwards(t, call.Protocol) {
			tried[t] = avoided
		}
	}
	return m.allAvoided(tried)
}

// unserved is the error of a call with no canonical request to a model no
// target of which can serve it.
func unserved(call *pipeline.Call, m *Model) error {
	return llm.InvalidRequest("model", "model %q cannot serve this request: its upstream has no %s endpoint",
		llm.Clip(m.Name), call.Native.Endpoint)
}
