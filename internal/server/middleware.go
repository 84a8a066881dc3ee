package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// reqInfo is what a handler learns about its request, for the access log.
// It is created by the outermost middleware and filled in by handlers.
type reqInfo struct {
	// snap is the configuration snapshot the whole request is served from,
	// taken once when it arrives: a reload mid-request changes nothing
	// for it.
	snap     *gateway.Snapshot
	id       string
	protocol string
	model    string
	provider string
	tenant   string
	key      string
	errCode  string
	stream   bool
	// clientID is true when id came from the client's x-request-id.
	clientID bool
	// What the usage ledger records: the caller's IDs, the answer's stream
	// (its usage is read when the request ends), the upstream model, and
	// the time to the first chunk of a stream.
	keyID, tenantID, team string
	result                llm.Stream
	// spend is the call's reservation against its budgets, settled with
	// its cost when the request ends.
	spend         *budget.Reservation
	upstreamModel string
	// routeRule is the routing rule that chose the serving targets, ""
	// for the model's own.
	routeRule string
	ttft      time.Duration
	// call is the request's call, and out what its stream delivered (the
	// stream's wrapper when the request is a stream and usage is
	// recorded), for billing a stream cut short.
	call *pipeline.Call
	out  delivered
	// principal is the caller, set by authed: the request's context
	// carries it from the edge on (auth.WithSlot), so that authenticating
	// does not copy the request again.
	principal auth.Slot
	// hdr backs the values of the response headers the gateway sets on
	// every request (see setHeader).
	hdr [numHeaders]string
	// What the metrics need (metrics.go): the index of the route's label,
	// the caller's tenant label, the kind of limit that refused the call,
	// and the size of the request body when a handler read it.
	route       uint8
	tenantLabel string
	refused     limits.Dimension
	bodyRead    bool
	reqBytes    int64
	// attempts is the number of upstream attempts the call made, set
	// whether it succeeded or not; done is its usage and cost, computed
	// once when it has ended (finish), for the access log and the ledger.
	attempts int
	done     outcome
	// rec is the request's recorder, and payload what is kept of its
	// bodies when its tenant's are logged (nil otherwise).
	rec     *recorder
	payload *payloadCapture
	// traced is the request's span and what it records, nil when
	// tracing is off (trace.go): a pointer, so that the request's edge
	// state stays in its size class.
	traced *traced
	// bounded is set for an inference route run within the concurrency
	// ceilings, and streamPlace while its stream holds a place under
	// server.max_open_streams (overload.go).
	bounded, streamPlace bool
}

// Response headers with a value slot in reqInfo.hdr.
const (
	hdrRequestID = iota
	hdrAttempts
	hdrProvider
	hdrDropped
	hdrLimitRequests
	hdrRemainingRequests
	hdrResetRequests
	hdrLimitTokens
	hdrRemainingTokens
	hdrResetTokens
	numHeaders
)

// setHeader is h.Set(key, v) for a canonical key, with the value held in
// ri's slot rather than in a slice allocated per header. The slice's
// capacity is 1: an Add to it copies rather than overwrite the next slot.
func (ri *reqInfo) setHeader(h http.Header, key string, slot int, v string) {
	ri.hdr[slot] = v
	h[key] = ri.hdr[slot : slot+1 : slot+1]
}

// edgeState is what the edge allocates per request, in one allocation.
type edgeState struct {
	info reqInfo
	rec  recorder
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// current returns the snapshot r is served from.
func (s *Server) current(r *http.Request) *gateway.Snapshot {
	if ri, ok := r.Context().Value(infoKey{}).(*reqInfo); ok && ri.snap != nil {
		return ri.snap
	}
	return s.snap.Load()
}

// RequestID returns the request ID of ctx, or "".
func RequestID(ctx context.Context) string { return infoFrom(ctx).id }

// recorder captures the status and size of a response for the access log
// and the metrics, and times the writes of a stream.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// info is the request's, and m the server's metrics.
	info *reqInfo
	m    *metrics
	// streaming is set when the response is a stream that has begun (a
	// 200 to a request for a stream), with its series; first and last are
	// when its first and latest writes happened.
	streaming   bool
	seriesKey   seriesKey
	series      *requestSeries
	first, last time.Time
	// keep, when not nil, keeps the first bytes of the response for the
	// payload log.
	keep *payloadCapture
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.setStatus(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.setStatus(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	if r.streaming && n > 0 {
		r.tick()
	}
	if r.keep != nil {
		r.keep.response(b[:n])
	}
	return n, err
}

// setStatus records the response's status; a 200 to a request for a
// stream begins the stream.
func (r *recorder) setStatus(code int) {
	r.status = code
	if code == http.StatusOK && r.info.stream && r.m != nil {
		r.beginStream()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer's Flush.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// validRequestID accepts a client's request ID only when it is short and
// printable, so it cannot forge log lines or headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// edge is the outermost middleware: request ID, access log and panic
// recovery, in that order.
func (s *Server) edge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &edgeState{info: reqInfo{snap: s.snap.Load(), id: r.Header.Get("X-Request-Id")}, rec: recorder{ResponseWriter: w, m: s.m}}
		ri, rec := &st.info, &st.rec
		rec.info = ri
		ri.rec = rec
		if !validRequestID(ri.id) {
			ri.id = newRequestID()
		} else {
			ri.clientID = true
		}
		ri.setHeader(w.Header(), "X-Request-Id", hdrRequestID, ri.id)
		ctx := traceContext(context.WithValue(r.Context(), infoKey{}, ri), r, ri)
		r = r.WithContext(auth.WithSlot(ctx, &ri.principal))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic recovered", "request_id", ri.id, "at", panicSite())
				ri.errCode = "internal_error"
				if rec.status == 0 {
					s.writeError(rec, r, fmt.Errorf("panic"))
				}
			}
			ri.finish()
			s.payloadLog(r, rec, ri)
			s.accessLog(r, rec, ri, start)
			s.observe(rec, ri, start, time.Now())
			u, ok := s.recordUsage(rec, ri, start)
			if ri.traced != nil {
				endSpan(ri.traced, r, rec, ri, u, ok)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// panicSite returns the file:line that panicked: enough to find the bug,
// without a stack trace in the log.
func panicSite() string {
	var pcs [16]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !isRuntime(f.Function) {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

func isRuntime(fn string) bool { return len(fn) >= 8 && fn[:8] == "runtime." }

func (s *Server) accessLog(r *http.Request, rec *recorder, ri *reqInfo, start time.Time) {
	if !ri.snap.Config.AccessLogEnabled() {
		return
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	status := rec.status
	if status == 0 {
		status = 499 // nothing written: the client went away
	}
	// The record is built here rather than by Logger.LogAttrs, which would
	// read the clock a second time and walk the stack for a source
	// location that no handler of the gateway logs (AddSource is off).
	now := time.Now()
	line := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	// Sized for every attribute a line can have, so appends never grow it.
	attrs := make([]slog.Attr, 0, 30)
	attrs = append(attrs,
		slog.String("request_id", ri.id),
		slog.String("method", llm.Clip(r.Method)),
		slog.String("path", llm.Clip(r.URL.Path)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(now.Sub(start).Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
	)
	if ri.model != "" {
		attrs = append(attrs, slog.String("model", llm.Clip(ri.model)), slog.Bool("stream", ri.stream))
	}
	if ri.provider != "" {
		attrs = append(attrs, slog.String("provider", llm.Clip(ri.provider)))
	}
	if ri.key != "" {
		attrs = append(attrs, slog.String("key", llm.Clip(ri.key)), slog.String("tenant", llm.Clip(ri.tenant)))
	}
	if ri.errCode != "" {
		attrs = append(attrs, slog.String("error", ri.errCode))
	}
	attrs = ri.appendOutcome(attrs)
	if ri.traced != nil && ri.traced.span.IsRecording() {
		sc := ri.traced.span.SpanContext()
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	line.AddAttrs(attrs...)
	_ = s.log.Handler().Handle(ctx, line)
}
