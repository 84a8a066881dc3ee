package responses

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llmgw/llmgw/internal/sse"
)

// TestSDKDecodesResponse reads each case's whole response with openai-go's
// responses.Response, as a Go client of the gateway would, and checks the
// text, the function calls, the reasoning and the usage came through.
func TestSDKDecodesResponse(t *testing.T) {
	for _, name := range goldenCases(t, "stream") {
		t.Run(name, func(t *testing.T) {
			sc := loadStreamCase(t, name)
			whole, err := EncodeResponse(accumulate(sc), &sc.Meta)
			if err != nil {
				t.Fatal(err)
			}
			var r responses.Response
			if err := json.Unmarshal(whole, &r); err != nil {
				t.Fatalf("SDK cannot decode: %v\n%s", err, whole)
			}
			checkSDKResponse(t, sc, &r)
		})
	}
}

// checkSDKResponse compares what the SDK read with the case's chunks.
func checkSDKResponse(t *testing.T, sc *streamCase, r *responses.Response) {
	t.Helper()
	acc := accumulate(sc)
	m := firstChoice(acc).Message
	if r.ID != sc.Meta.ID || r.Object != "response" || r.Model != acc.Model {
		t.Errorf("id %q object %q model %q", r.ID, r.Object, r.Model)
	}
	var text string
	for _, p := range m.Content {
		if p.Type == "text" {
			text += p.Text
		}
	}
	if got := r.OutputText(); got != text {
		t.Errorf("OutputText() = %q, want %q", got, text)
	}
	var calls int
	for _, item := range r.Output {
		switch v := item.AsAny().(type) {
		case responses.ResponseFunctionToolCall:
			tc := m.ToolCalls[calls]
			calls++
			if v.CallID != tc.ID || v.Name != tc.Name || v.Arguments != tc.Arguments {
				t.Errorf("function call %+v, want %+v", v, tc)
			}
		case responses.ResponseReasoningItem:
			if len(v.Summary) != 1 || v.Summary[0].Text != m.Content[0].Text {
				t.Errorf("reasoning summary %+v, want %q", v.Summary, m.Content[0].Text)
			}
			if v.EncryptedContent != m.Content[0].Signature {
				t.Errorf("encrypted_content %q, want %q", v.EncryptedContent, m.Content[0].Signature)
			}
		case responses.ResponseOutputMessage:
			if len(v.Content) == 0 {
				t.Error("message item without content")
			}
		default:
			t.Errorf("unexpected output item %T", v)
		}
	}
	if calls != len(m.ToolCalls) {
		t.Errorf("%d function calls, want %d", calls, len(m.ToolCalls))
	}
	if u := acc.Usage; u != nil && sc.Fail == "" {
		if r.Usage.InputTokens != int64(u.PromptTokens) || r.Usage.OutputTokens != int64(u.CompletionTokens) ||
			r.Usage.TotalTokens != int64(u.Total()) || r.Usage.InputTokensDetails.CachedTokens != int64(u.CachedTokens) ||
			r.Usage.OutputTokensDetails.ReasoningTokens != int64(u.ReasoningTokens) {
			t.Errorf("usage %+v, want %+v", r.Usage, u)
		}
	}
}

// TestSDKReadsStream writes each case's events through sse.Writer, as the
// server does, and reads the body back with openai-go's own stream decoder
// into ResponseStreamEventUnion: the framing is event: and data: lines, no
// [DONE] follows, the deltas rebuild the text and the arguments, and the
// terminal event's response is the stored one.
func TestSDKReadsStream(t *testing.T) {
	for _, name := range goldenCases(t, "stream") {
		t.Run(name, func(t *testing.T) {
			sc := loadStreamCase(t, name)
			rec := httptest.NewRecorder()
			sse.SetHeaders(rec.Header())
			w := sse.NewWriter(rec)
			events, enc := runStreamTo(t, sc, w.WriteEvent)
			body := rec.Body.Bytes()
			if bytes.Contains(body, []byte("[DONE]")) {
				t.Error("a Responses stream ends with its terminal event, not [DONE]")
			}
			if !bytes.HasPrefix(body, []byte("event: response.created\ndata: {\"type\":\"response.created\"")) {
				t.Errorf("stream does not open with an event: line and its data: %q", body[:min(80, len(body))])
			}
			if got := strings.Count(string(body), "\n\n"); got != events {
				t.Errorf("%d events framed, want %d", got, events)
			}
			res := &http.Response{Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(body))}
			stream := ssestream.NewStream[responses.ResponseStreamEventUnion](ssestream.NewDecoder(res), nil)
			checkSDKStream(t, sc, stream, enc.Response())
		})
	}
}

// runStreamTo encodes the case's chunks to emit and returns the number of
// events.
func runStreamTo(t *testing.T, sc *streamCase, emit Emit) (int, *StreamEncoder) {
	t.Helper()
	var n int
	counting := func(typ string, data []byte) error {
		n++
		return emit(typ, data)
	}
	enc := NewStreamEncoder(&sc.Meta)
	for i := range sc.Chunks {
		if err := enc.Encode(&sc.Chunks[i], counting); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if sc.Fail != "" {
		err = enc.Fail(failure(sc.Fail), counting)
	} else {
		err = enc.Finish(counting)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n, enc
}

func checkSDKStream(t *testing.T, sc *streamCase, stream *ssestream.Stream[responses.ResponseStreamEventUnion], final []byte) {
	t.Helper()
	var text strings.Builder
	args := map[string]string{}
	var last responses.ResponseStreamEventUnion
	var n int64
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != n {
			t.Errorf("sequence_number %d, want %d", ev.SequenceNumber, n)
		}
		n++
		switch v := ev.AsAny().(type) {
		case responses.ResponseTextDeltaEvent:
			text.WriteString(v.Delta)
		case responses.ResponseFunctionCallArgumentsDeltaEvent:
			args[v.ItemID] += v.Delta
		case responses.ResponseFunctionCallArgumentsDoneEvent:
			if args[v.ItemID] != v.Arguments {
				t.Errorf("arguments of %s: deltas %q, done %q", v.ItemID, args[v.ItemID], v.Arguments)
			}
		}
		last = ev
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("SDK stream error: %v", err)
	}
	var r responses.Response
	switch v := last.AsAny().(type) {
	case responses.ResponseCompletedEvent:
		r = v.Response
	case responses.ResponseIncompleteEvent:
		r = v.Response
		if r.IncompleteDetails.Reason == "" {
			t.Error("incomplete response without a reason")
		}
	case responses.ResponseFailedEvent:
		r = v.Response
		if r.Status != responses.ResponseStatusFailed || r.Error.Code == "" || r.Error.Message == "" {
			t.Errorf("failed response: status %q error %+v", r.Status, r.Error)
		}
	default:
		t.Fatalf("stream ends with %T", v)
	}
	if r.RawJSON() != string(final) {
		t.Errorf("terminal response differs from Response():\n%s\n%s", r.RawJSON(), final)
	}
	if got := r.OutputText(); got != text.String() {
		t.Errorf("OutputText() = %q, deltas gave %q", got, text.String())
	}
	if sc.Fail == "" {
		checkSDKResponse(t, sc, &r)
	}
}
