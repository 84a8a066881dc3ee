package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HopHeader is the header every upstream request carries naming the gateway
// instances it went through, this one last: a comma-separated list of
// instance ids. A gateway that finds its own id in a request it receives is
// looking at a request it forwarded itself, a loop, and refuses it.
const HopHeader = "X-Llmgw-Hop"

// MaxHops is how many gateways a request may have gone through before
// this one; a longer chain is taken for a loop among gateways.
const MaxHops = 16

// maxHopID bounds one id of the hop list.
const maxHopID = 64

// instanceID identifies this process among gateways. It is random, made at
// start, and says nothing about the host or its configuration.
var instanceID = func() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// InstanceID returns the id this gateway puts in HopHeader.
func InstanceID() string { return instanceID }

// ParseHops reads the hop lists of a request's HopHeader values. It reports
// loop when one of the ids is this instance's own, or when more than MaxHops
// gateways forwarded the request. Ids that are not plain names (letters,
// digits, '-', '_', at most 64 bytes) are dropped: a client cannot smuggle
// anything into the header the gateway sends on.
func ParseHops(values []string) (hops []string, loop bool) {
	for _, v := range values {
		for id := range strings.SplitSeq(v, ",") {
			id = strings.TrimSpace(id)
			if !plainName(id, maxHopID, false) {
				continue
			}
			if id == instanceID {
				return nil, true
			}
			if len(hops) == MaxHops {
				return nil, true
			}
			hops = append(hops, id)
		}
	}
	return hops, false
}

// plainName reports whether s is 1 to max bytes of letters, digits, '-'
// and '_' (and '.' when dot is set).
func plainName(s string, max int, dot bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && dot:
		default:
			return false
		}
	}
	return true
}

// Inbound is what a client's request says that the gateway's upstream
// requests for it carry on, already validated.
type Inbound struct {
	// Hops are the ids of the gateways the request went through before
	// this one (see HopHeader).
	Hops []string
	// AnthropicBeta is the client's anthropic-beta list, comma-joined,
	// and AnthropicVersion its anthropic-version: set only on the
	// Anthropic routes, for an Anthropic upstream.
	AnthropicBeta, AnthropicVersion string
}

type inboundKey struct{}

// WithInbound returns ctx carrying in.
func WithInbound(ctx context.Context, in *Inbound) context.Context {
	return context.WithValue(ctx, inboundKey{}, in)
}

// InboundFrom returns the Inbound of ctx, or nil.
func InboundFrom(ctx context.Context) *Inbound {
	in, _ := ctx.Value(inboundKey{}).(*Inbound)
	return in
}

// Anthropic header limits: a list of at most maxBetas names of at most
// maxBetaName bytes; a version of at most maxBetaName bytes.
const (
	maxBetas    = 64
	maxBetaName = 128
)

// ParseAnthropicBeta reads a request's anthropic-beta values (one
// comma-separated list per header line, as the SDKs send) into one
// comma-joined list without duplicates. ok is false when a name is not a
// plain name (letters, digits, '-', '_', '.', at most 128 bytes) or there
// are more than 64, duplicates included.
func ParseAnthropicBeta(values []string) (betas string, ok bool) {
	var names []string
	n := 0
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if n++; n > maxBetas || !plainName(name, maxBetaName, true) {
				return "", false
			}
			names = appendNew(names, name)
		}
	}
	return strings.Join(names, ","), true
}

// ValidAnthropicVersion reports whether v may be sent on as an
// anthropic-version header: a plain name of at most 128 bytes.
func ValidAnthropicVersion(v string) bool { return plainName(v, maxBetaName, true) }

// MergeBetas returns the comma-joined union of two beta lists, those of
// first first, without duplicates.
func MergeBetas(first, second string) string {
	if second == "" || first == second {
		return first
	}
	if first == "" {
		return second
	}
	var names []string
	for _, list := range []string{first, second} {
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = appendNew(names, name)
			}
		}
	}
	return strings.Join(names, ",")
}

func appendNew(names []string, name string) []string {
	for _, n := range names {
		if n == name {
			return names
		}
	}
	return append(names, name)
}

// hopValue is the HopHeader value of an upstream request whose client's
// request came through hops.
func hopValue(hops []string) string {
	if len(hops) == 0 {
		return instanceID
	}
	return strings.Join(hops, ",") + "," + instanceID
}

// requestHeader returns the header of one upstream request: base, shared
// and read-only, when the request adds nothing to it (the common case),
// else a copy with the client's hop list, the adapter's per-request
// headers (extra) and the trace context (SetTraceContext) set.
func requestHeader(ctx context.Context, base http.Header, extra func(context.Context) http.Header) http.Header {
	in := InboundFrom(ctx)
	var add http.Header
	if extra != nil {
		add = extra(ctx)
	}
	traced := trace.SpanContextFromContext(ctx).IsValid()
	if (in == nil || len(in.Hops) == 0) && len(add) == 0 && !traced {
		return base
	}
	h := base.Clone()
	for k, v := range add {
		h[k] = v
	}
	if in != nil && len(in.Hops) > 0 {
		h.Set(HopHeader, hopValue(in.Hops))
	}
	if traced {
		SetTraceContext(ctx, h)
	}
	return h
}

// SetTraceContext sets the W3C trace context headers (traceparent,
// tracestate) of the span context of ctx in h, replacing any there: with
// tracing on, that of the upstream attempt's span, so that the upstream's
// spans are its children; with tracing off, the client's own, passed on
// unchanged. Without a span context in ctx it leaves h as it is.
func SetTraceContext(ctx context.Context, h http.Header) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	}
}
