package server

import (
	"net/http"
	"slices"
	"testing"
)

// A header set from reqInfo's slots reads like one set by Header.Set, and
// adding to it leaves the other slots alone.
func TestSetHeaderSlots(t *testing.T) {
	var ri reqInfo
	h := http.Header{}
	ri.setHeader(h, "X-Request-Id", hdrRequestID, "id-1")
	ri.setHeader(h, attemptsHeader, hdrAttempts, "2")
	ri.setHeader(h, "X-Llmgw-Provider", hdrProvider, "p")
	h.Add("X-Request-Id", "id-2")
	if got := h.Values("X-Request-Id"); !slices.Equal(got, []string{"id-1", "id-2"}) {
		t.Errorf("X-Request-Id = %q", got)
	}
	if h.Get(attemptsHeader) != "2" || h.Get("X-Llmgw-Provider") != "p" {
		t.Errorf("headers %v", h)
	}
	ri.setHeader(h, attemptsHeader, hdrAttempts, "3") // set again: replaced
	if got := h.Values(attemptsHeader); !slices.Equal(got, []string{"3"}) {
		t.Errorf("%s = %q", attemptsHeader, got)
	}
	for _, k := range []string{"X-Request-Id", attemptsHeader, "X-Llmgw-Provider"} {
		if http.CanonicalHeaderKey(k) != k {
			t.Errorf("%q is not canonical", k)
		}
	}
}
