package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Upstream misbehaviours, chosen by the upstream model id in the request.
const (
	modeOK        = "ok"        // a proper answer in the endpoint's format
	modeEcho      = "echo"      // 200 whose error body echoes the request headers
	modeEcho400   = "echo400"   // 400 whose error message echoes the request headers
	modeEchoMid   = "echomid"   // a stream whose error event, after a first chunk, echoes them
	modeBinary    = "binary"    // 200 of binary junk
	modeSSE       = "sse"       // Server-Sent Events whatever the request asked
	modeTruncated = "truncated" // the body stops in the middle
	modeHugeLine  = "hugeline"  // a 10 MiB line with no end of line
	modeEndless   = "endless"   // a body that never ends
	modeDrip      = "drip"      // a proper answer, one byte a second
	modeHang      = "hang"      // no response headers at all
	mode429       = "429"       // 429 with Retry-After: 99999999
)

// allModes is every mode, for the gateway's config.
var allModes = []string{modeOK, modeEcho, modeEcho400, modeEchoMid, modeBinary, modeSSE, modeTruncated,
	modeHugeLine, modeEndless, modeDrip, modeHang, mode429}

// received is one request the fake upstream received.
type received struct {
	Path   string
	Header http.Header
	Body   []byte
}

// upstream is a fake OpenAI (/chat/completions, /embeddings) and Anthropic
// (/v1/messages, /v1/messages/count_tokens) API in one server.
type upstream struct {
	*httptest.Server
	stop chan struct{} // closed at cleanup: ends every hanging handler

	mu   sync.Mutex
	reqs []received
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{stop: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() {
		close(u.stop)
		u.Server.CloseClientConnections()
		u.Server.Close()
	})
	return u
}

// requests returns what the upstream has received so far.
func (u *upstream) requests() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.reqs...)
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.reqs = append(u.reqs, received{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	u.mu.Unlock()
	// The upstream reads the body as a server written in Go would: into a
	// map, the last of duplicate keys winning.
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	model, _ := req["model"].(string)
	stream, _ := req["stream"].(bool)
	anthropic := strings.HasPrefix(r.URL.Path, "/v1/messages")
	// No connection is kept: what the gateway holds open afterwards is its
	// own doing.
	w.Header().Set("Connection", "close")
	switch model {
	case modeEcho:
		u.echo(w, r, anthropic, stream, http.StatusOK)
	case modeEcho400:
		u.echo(w, r, anthropic, false, http.StatusBadRequest)
	case modeEchoMid:
		if !stream {
			u.echo(w, r, anthropic, false, http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		full := streamBody(r.URL.Path, "a first word")
		_, _ = w.Write(full[:bytes.Index(full, []byte("\n\n"))+2])
		if anthropic {
			second := full[bytes.Index(full, []byte("\n\n"))+2:]
			_, _ = w.Write(second[:bytes.Index(second, []byte("\n\n"))+2])
			_, _ = io.WriteString(w, "event: error\ndata: "+echoBody(r, anthropic)+"\n\n")
			return
		}
		_, _ = io.WriteString(w, "data: "+echoBody(r, anthropic)+"\n\n")
	case modeBinary:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		junk := make([]byte, 8192)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range junk {
			junk[i] = byte(rng.UintN(256))
		}
		_, _ = w.Write(junk)
	case modeSSE:
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(streamBody(r.URL.Path, "not what was asked for"))
	case modeTruncated:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		full := answerBody(r.URL.Path, stream, "cut short in the middle of it")
		if stream {
			// One whole event, then half of the next: no end of stream.
			i := bytes.Index(full, []byte("\n\n")) + 2
			j := i + bytes.Index(full[i:], []byte("\n\n"))/2
			_, _ = w.Write(full[:j])
			return
		}
		_, _ = w.Write(full[:len(full)/2])
	case modeHugeLine:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		if stream {
			_, _ = io.WriteString(w, "data: ")
		}
		_, _ = w.Write(bytes.Repeat([]byte("x"), 10<<20))
	case modeEndless:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		if stream {
			_, _ = io.WriteString(w, `data: {"id":"chatcmpl-endless","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"`)
		} else {
			_, _ = io.WriteString(w, `{"id":"chatcmpl-endless","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`)
		}
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for u.running(r) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case modeDrip:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		for _, b := range answerBody(r.URL.Path, stream, "slowly") {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			case <-u.stop:
				return
			}
		}
	case modeHang:
		select {
		case <-r.Context().Done():
		case <-u.stop:
		}
	case mode429:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "99999999")
		w.WriteHeader(http.StatusTooManyRequests)
		if anthropic {
			_, _ = io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`)
		} else {
			_, _ = io.WriteString(w, `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded","param":null}}`)
		}
	default:
		setType(w, stream)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answerBody(r.URL.Path, stream, lastUserText(req)))
	}
}

// running reports whether a handler that writes forever should go on.
func (u *upstream) running(r *http.Request) bool {
	select {
	case <-r.Context().Done():
		return false
	case <-u.stop:
		return false
	default:
		return true
	}
}

// echo answers an error whose message holds every request header, the
// credentials included, as careless upstreams and debugging proxies do.
func (u *upstream) echo(w http.ResponseWriter, r *http.Request, anthropic, stream bool, status int) {
	body := echoBody(r, anthropic)
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(status)
		if anthropic {
			_, _ = io.WriteString(w, "event: error\ndata: "+body+"\n\n")
		} else {
			_, _ = io.WriteString(w, "data: "+body+"\n\n")
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// echoBody is an error in the protocol's shape whose message holds every
// header of r.
func echoBody(r *http.Request, anthropic bool) string {
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	sb.WriteString("invalid request; you sent:")
	for _, k := range names {
		fmt.Fprintf(&sb, " %s: %s;", k, strings.Join(r.Header[k], ","))
	}
	msg, _ := json.Marshal(sb.String())
	if anthropic {
		return `{"type":"error","error":{"type":"invalid_request_error","message":` + string(msg) + `}}`
	}
	return `{"error":{"message":` + string(msg) + `,"type":"invalid_request_error","code":null,"param":null}}`
}

func setType(w http.ResponseWriter, stream bool) {
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
}

// lastUserText returns the text of the last message of a decoded request,
// or "hello".
func lastUserText(req map[string]any) string {
	msgs, _ := req["messages"].([]any)
	if len(msgs) == 0 {
		return "hello"
	}
	m, _ := msgs[len(msgs)-1].(map[string]any)
	if s, ok := m["content"].(string); ok && s != "" {
		return s
	}
	return "hello"
}

// answerBody is a proper answer of the endpoint at path saying text.
func answerBody(path string, stream bool, text string) []byte {
	if stream {
		return streamBody(path, text)
	}
	q, _ := json.Marshal(text)
	switch {
	case strings.HasSuffix(path, "/embeddings"):
		return []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"ok","usage":{"prompt_tokens":2,"total_tokens":2}}`)
	case path == "/v1/messages/count_tokens":
		return []byte(`{"input_tokens":7}`)
	case path == "/v1/messages":
		return []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"ok","content":[{"type":"text","text":` + string(q) +
			`}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":3}}`)
	}
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"ok","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(q) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`)
}

// streamBody is a proper stream of the endpoint at path saying text, word
// by word.
func streamBody(path string, text string) []byte {
	var b bytes.Buffer
	words := strings.Fields(text)
	if path == "/v1/messages" {
		ev := func(typ, data string) { fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", typ, data) }
		ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"ok","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":0}}}`)
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		for i, w := range words {
			if i > 0 {
				w = " " + w
			}
			q, _ := json.Marshal(w)
			ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(q)+`}}`)
		}
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}`)
		ev("message_stop", `{"type":"message_stop"}`)
		return b.Bytes()
	}
	chunk := func(delta, finish string) {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"ok","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`+"\n\n", delta, finish)
	}
	chunk(`{"role":"assistant","content":""}`, "null")
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		q, _ := json.Marshal(w)
		chunk(`{"content":`+string(q)+`}`, "null")
	}
	chunk(`{}`, `"stop"`)
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"ok","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}
