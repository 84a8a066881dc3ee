package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/llmgw/llmgw/internal/observe/tracing/tracingtest"
)

// OTEL_EXPORTER_OTLP_ENDPOINT alone turns tracing on, over the built-in
// defaults; the spans of the last requests are sent when the process
// shuts down after SIGTERM (the batch delay is set far beyond the test,
// so only the shutdown sends them), and the export's headers, secrets,
// are not logged.
func TestServeTracesFromTheEnvironmentAndFlushesOnShutdown(t *testing.T) {
	for _, tc := range []struct{ protocol string }{{"http/protobuf"}, {"grpc"}} {
		t.Run(tc.protocol, func(t *testing.T) {
			rcv := tracingtest.NewHTTP(t)
			if tc.protocol == "grpc" {
				rcv = tracingtest.NewGRPC(t)
			}
			cmd, addr, logs := startServe(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.Endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL="+tc.protocol,
				"OTEL_EXPORTER_OTLP_HEADERS=x-backend-key=otlp-header-secret", "OTEL_BSP_SCHEDULE_DELAY=600000", "OTEL_SERVICE_NAME=gw-under-test")
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
				strings.NewReader(`{"model":"mock","messages":[{"role":"user","content":"Hello"}]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if n := len(rcv.Spans()); n != 0 {
				t.Fatalf("%d spans before shutdown: the batch delay did not hold them", n)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v\n%s", err, logs.String())
			}
			var server, client int
			for _, s := range rcv.Spans() {
				if s.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Service != "gw-under-test" {
					t.Errorf("span %+v", s)
				}
				switch s.Kind {
				case tracepb.Span_SPAN_KIND_SERVER:
					server++
					if s.Parent != "00f067aa0ba902b7" || s.Name != "chat mock" {
						t.Errorf("request span %+v", s)
					}
				case tracepb.Span_SPAN_KIND_CLIENT:
					client++
				}
			}
			if server != 1 || client != 1 {
				t.Errorf("%d request spans, %d attempt spans after shutdown; want 1 and 1\n%s", server, client, logs.String())
			}
			if !strings.Contains(logs.String(), `"msg":"tracing"`) || strings.Contains(logs.String(), "otlp-header-secret") {
				t.Errorf("logs: %s", logs.String())
			}
		})
	}
}

// validate reads the OTEL_* variables as serve does, and names the one it
// cannot read.
func TestValidateChecksTheTracingVariables(t *testing.T) {
	good := writeFile(t, "providers: [{name: mock, type: mock}]\nmodels: [{name: m, targets: [{provider: mock, model: mock}]}]\n")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
	t.Setenv("OTEL_TRACES_SAMPLER", "sometimes")
	var stderr bytes.Buffer
	if code := run([]string{"validate", "--config", good}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "OTEL_TRACES_SAMPLER") {
		t.Errorf("exit %d, %s", code, stderr.String())
	}
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	if code := run([]string{"validate", "--config", good}, io.Discard, io.Discard); code != 0 {
		t.Errorf("exit %d", code)
	}
}
