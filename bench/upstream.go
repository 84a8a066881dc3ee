package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tidwall/gjson"
)

// upstreamOptions are the fake upstream's defaults; a request may override
// them in its metadata (bench_latency_ms, bench_interval_ms), and max_tokens
// sets the number of content events of a stream. Steering by the body lets
// one upstream serve every scenario through every proxy: the gateway
// forwards the body, not the client's headers.
type upstreamOptions struct {
	latency  time.Duration // before the response headers
	tokens   int           // content events per stream
	interval time.Duration // between two stream events
}

// forRequest returns the options body asks for.
func (o upstreamOptions) forRequest(body []byte) upstreamOptions {
	if v := gjson.GetBytes(body, "max_tokens"); v.Exists() && v.Int() > 0 {
		o.tokens = int(v.Int())
	}
	if v := gjson.GetBytes(body, "metadata.bench_latency_ms"); v.Exists() {
		o.latency = time.Duration(v.Float() * float64(time.Millisecond))
	}
	if v := gjson.GetBytes(body, "metadata.bench_interval_ms"); v.Exists() {
		o.interval = time.Duration(v.Float() * float64(time.Millisecond))
	}
	return o
}

// completionBody is a chat.completion of the size a short real answer has.
const completionBody = `{"id":"chatcmpl-bench0001","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the country's capital for most of its history and is its largest city.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":25,"total_tokens":56,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench"}`

const (
	chunkHead  = `{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":`
	usageChunk = `{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":%d,"total_tokens":%d}}`
)

// streamEvents returns the SSE frames of a stream of n content tokens: a
// role event, n content events, a finish event, the usage event when asked
// for, and [DONE].
func streamEvents(n int, usage bool) [][]byte {
	ev := make([][]byte, 0, n+4)
	frame := func(s string) []byte { return []byte("data: " + s + "\n\n") }
	ev = append(ev, frame(chunkHead+`{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`))
	for i := range n {
		ev = append(ev, frame(chunkHead+`{"content":" tok`+strconv.Itoa(i%100)+`"},"logprobs":null,"finish_reason":null}]}`))
	}
	ev = append(ev, frame(chunkHead+`{},"logprobs":null,"finish_reason":"stop"}]}`))
	if usage {
		ev = append(ev, frame(fmt.Sprintf(usageChunk, n, n+31)))
	}
	return append(ev, frame("[DONE]"))
}

// upstreamHandler is the fake OpenAI API: POST .../chat/completions answers a
// fixed completion, or a stream when "stream" is true.
// otlpTracesPath is where the upstream takes the gateway's spans, so that
// tracing is on in the harness's gateway as in production.
const otlpTracesPath = "/v1/traces"

func upstreamHandler(defaults upstreamOptions) http.Handler {
	var cache sync.Map // streamKey -> [][]byte
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if r.URL.Path == otlpTracesPath {
			// The gateway's spans, exported over OTLP/HTTP: taken and
			// dropped. An empty body is an empty ExportTraceServiceResponse.
			w.Header().Set("Content-Type", "application/x-protobuf")
			return
		}
		opts := defaults.forRequest(body)
		if opts.latency > 0 {
			time.Sleep(opts.latency)
		}
		if !gjson.GetBytes(body, "stream").Bool() {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(completionBody)))
			_, _ = io.WriteString(w, completionBody)
			return
		}
		key := streamKey{opts.tokens, gjson.GetBytes(body, "stream_options.include_usage").Bool()}
		events, ok := cache.Load(key)
		if !ok {
			events, _ = cache.LoadOrStore(key, streamEvents(key.tokens, key.usage))
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		writeEvents(w, events.([][]byte), opts.interval)
	})
}

type streamKey struct {
	tokens int
	usage  bool
}

// writeEvents writes and flushes each event, interval apart.
func writeEvents(w http.ResponseWriter, events [][]byte, interval time.Duration) {
	rc := http.NewResponseController(w)
	for i, e := range events {
		if i > 0 && interval > 0 {
			time.Sleep(interval)
		}
		if _, err := w.Write(e); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// serveChild serves h on addr until SIGTERM, printing the bound address on
// stdout as the parent's signal that the child is ready.
func serveChild(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	fmt.Println(ln.Addr().String())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// runUpstream is the "upstream" subcommand.
func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	addr := fs.String("listen", "127.0.0.1:0", "address")
	var o upstreamOptions
	fs.DurationVar(&o.latency, "latency", 0, "delay before the response headers")
	fs.IntVar(&o.tokens, "tokens", 200, "content events per stream")
	fs.DurationVar(&o.interval, "interval", 0, "delay between stream events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveChild(*addr, upstreamHandler(o))
}

// newRevProxy is the baseline: the standard library's reverse proxy with a
// pooled transport, flushing every write so streams pass through. It reads
// the request body whole before forwarding it, as the gateway does: an
// HTTP/1 server closes an unread request body once the response headers are
// written, and a transport still reading it then tears down the upstream
// connection under a stream (golang/go#40747).
func newRevProxy(target *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 1024
	rp.Transport = tr
	rp.FlushInterval = -1
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})
}

// runRevProxy is the "revproxy" subcommand.
func runRevProxy(args []string) error {
	fs := flag.NewFlagSet("revproxy", flag.ContinueOnError)
	addr := fs.String("listen", "127.0.0.1:0", "address")
	target := fs.String("target", "", "upstream URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("revproxy: bad --target %q", *target)
	}
	return serveChild(*addr, newRevProxy(u))
}

// isDone reports whether an SSE data payload is the [DONE] sentinel.
func isDone(data []byte) bool { return bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) }
