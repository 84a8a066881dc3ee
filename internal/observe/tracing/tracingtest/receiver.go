// Package tracingtest is an in-process OTLP trace receiver for tests:
// OTLP/HTTP (protobuf bodies posted to /v1/traces) and OTLP/gRPC (the
// collector's TraceService), keeping the spans it is sent.
package tracingtest

import (
	"context"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is one span received, flattened.
type Span struct {
	Name                    string
	Kind                    tracepb.Span_SpanKind
	TraceID, SpanID, Parent string // hex; Parent is "" for a root span
	Attrs                   map[string]any
	Status                  tracepb.Status_StatusCode
	// Service is the service.name of the span's resource.
	Service string
}

// Receiver keeps the spans exported to it.
type Receiver struct {
	// Endpoint is the receiver's base URL, as tracing.endpoint takes it.
	Endpoint string

	mu      sync.Mutex
	spans   []Span
	headers map[string][]string // of the last OTLP/HTTP export
	coltracepb.UnimplementedTraceServiceServer
}

// NewHTTP starts an OTLP/HTTP receiver, stopped when the test ends.
func NewHTTP(t testing.TB) *Receiver {
	rc := &Receiver{}
	srv := httptest.NewServer(rc.handler())
	t.Cleanup(srv.Close)
	rc.Endpoint = srv.URL
	return rc
}

// NewHTTPS starts an OTLP/HTTP receiver over TLS, with a certificate of
// its own, and returns it with a PEM file of that certificate, to trust.
func NewHTTPS(t testing.TB) (*Receiver, string) {
	rc := &Receiver{}
	srv := httptest.NewUnstartedServer(rc.handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	rc.Endpoint = srv.URL
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return rc, ca
}

// handler is the OTLP/HTTP traces endpoint.
func (rc *Receiver) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		b, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.add(&req, r.Header)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
}

// NewGRPC starts an OTLP/gRPC receiver, stopped when the test ends.
func NewGRPC(t testing.TB) *Receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &Receiver{Endpoint: "http://" + ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, rc)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return rc
}

// Export implements the collector's TraceService.
func (rc *Receiver) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	rc.add(req, nil)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (rc *Receiver) add(req *coltracepb.ExportTraceServiceRequest, h http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if h != nil {
		rc.headers = h.Clone()
	}
	for _, rs := range req.GetResourceSpans() {
		service, _ := attrMap(rs.GetResource().GetAttributes())["service.name"].(string)
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{Name: s.GetName(), Kind: s.GetKind(), TraceID: hex.EncodeToString(s.GetTraceId()),
					SpanID: hex.EncodeToString(s.GetSpanId()), Attrs: attrMap(s.GetAttributes()),
					Status: s.GetStatus().GetCode(), Service: service}
				if p := s.GetParentSpanId(); len(p) > 0 {
					sp.Parent = hex.EncodeToString(p)
				}
				rc.spans = append(rc.spans, sp)
			}
		}
	}
}

// Spans returns the spans received so far.
func (rc *Receiver) Spans() []Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Span(nil), rc.spans...)
}

// Header returns a request header of the last OTLP/HTTP export.
func (rc *Receiver) Header(name string) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return http.Header(rc.headers).Get(name)
}

// attrMap flattens OTLP attributes: strings, booleans, int64s, float64s
// and []string for string arrays.
func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = x.BoolValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = x.IntValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = x.DoubleValue
		case *commonpb.AnyValue_ArrayValue:
			var ss []string
			for _, e := range x.ArrayValue.GetValues() {
				ss = append(ss, e.GetStringValue())
			}
			m[kv.GetKey()] = ss
		}
	}
	return m
}
