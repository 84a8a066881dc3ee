package responses

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmgw/llmgw/internal/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases returns the case names of testdata/<prefix>_*.in.json.
func goldenCases(t testing.TB, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"_*.in.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs %s_* in testdata: %v", prefix, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".in.json")
	}
	return names
}

// checkGolden compares got with testdata/<name>.golden.json, rewriting it
// first under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func readInput(t *testing.T, name string) []byte {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name+".in.json"))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGoldenRequests decodes each request_* input, checks it is a valid
// CreateResponse body, and compares the decoded request (the canonical
// chat request, the normalized input and the echoed fields) with its golden.
func TestGoldenRequests(t *testing.T) {
	for _, name := range goldenCases(t, "request") {
		t.Run(name, func(t *testing.T) {
			in := readInput(t, name)
			validateRequest(t, in)
			req, err := DecodeRequest(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !json.Valid(req.Input) {
				t.Fatalf("Input is not JSON: %s", req.Input)
			}
			got, err := json.MarshalIndent(req, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, append(got, '\n'))
		})
	}
}

// validateRequest checks a create-response body against the spec. The
// spec's InputItem union cannot judge items alone: its discriminator on type
// refuses the easy form without type (which the API accepts), and a typed
// developer message matches both EasyInputMessage and InputMessage, which a
// oneOf refuses. So the body is checked with its input replaced by a
// string, and each item against the schema of its kind.
func validateRequest(t *testing.T, body []byte) {
	t.Helper()
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	items, _ := req["input"].([]any)
	if items != nil {
		req["input"] = "items checked one by one"
	}
	whole, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainst(t, "CreateResponse", whole)
	for _, it := range items {
		m, _ := it.(map[string]any)
		schema := "EasyInputMessage"
		switch m["type"] {
		case "function_call":
			schema = "FunctionToolCall"
		case "function_call_output":
			schema = "FunctionCallOutputItemParam"
		case "reasoning":
			schema = "ReasoningItem"
		case "message":
			if m["id"] != nil {
				schema = "OutputMessage"
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		validateAgainst(t, schema, b)
	}
}

// streamCase is a stream_* input: a request, the response's meta, the
// canonical chunks of an upstream, and optionally the failure that ends
// the stream.
type streamCase struct {
	Request json.RawMessage `json:"request"`
	Meta    Meta            `json:"meta"`
	Chunks  []llm.Chunk     `json:"chunks"`
	Fail    string          `json:"fail"`
}

// event is one emitted stream event.
type event struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func loadStreamCase(t testing.TB, name string) *streamCase {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name+".in.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc streamCase
	if err := json.Unmarshal(in, &sc); err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(sc.Request)
	if err != nil {
		t.Fatalf("decode request: %v", err)
	}
	sc.Meta.Request = req
	return &sc
}

func failure(kind string) *llm.Error {
	switch kind {
	case "upstream":
		return &llm.Error{Kind: llm.KindUpstream, Err: fmt.Errorf("anthropic: overloaded, key sk-ant-secret")}
	case "rate_limited":
		return &llm.Error{Kind: llm.KindRateLimited, Message: "rate limit exceeded"}
	}
	return nil
}

// runStream encodes the case's chunks as events, copying each event's data.
func runStream(t testing.TB, sc *streamCase) ([]event, *StreamEncoder) {
	t.Helper()
	var events []event
	emit := func(typ string, data []byte) error {
		events = append(events, event{typ, bytes.Clone(data)})
		return nil
	}
	enc := NewStreamEncoder(&sc.Meta)
	for i := range sc.Chunks {
		if err := enc.Encode(&sc.Chunks[i], emit); err != nil {
			t.Fatalf("encode chunk %d: %v", i, err)
		}
	}
	var err error
	if sc.Fail != "" {
		err = enc.Fail(failure(sc.Fail), emit)
	} else {
		err = enc.Finish(emit)
	}
	if err != nil {
		t.Fatalf("end: %v", err)
	}
	return events, enc
}

// accumulate folds the case's chunks into one whole response.
func accumulate(sc *streamCase) *llm.Chunk {
	var acc llm.Accumulator
	for i := range sc.Chunks {
		acc.Add(&sc.Chunks[i])
	}
	return acc.Response()
}

// TestGoldenStreams encodes each stream_* case as events and as a whole
// response; it checks both against the spec and their goldens, the event
// order and numbering, and that the stream's final response is the bytes
// EncodeResponse gives for the same content.
func TestGoldenStreams(t *testing.T) {
	for _, name := range goldenCases(t, "stream") {
		t.Run(name, func(t *testing.T) {
			sc := loadStreamCase(t, name)
			events, enc := runStream(t, sc)
			for i, ev := range events {
				validateEvent(t, ev.Event, ev.Data)
				var head struct {
					Type string `json:"type"`
					Seq  *int   `json:"sequence_number"`
				}
				if err := json.Unmarshal(ev.Data, &head); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if head.Type != ev.Event || head.Seq == nil || *head.Seq != i {
					t.Errorf("event %d: type %q sequence_number %v, want %q and %d", i, head.Type, head.Seq, ev.Event, i)
				}
			}
			checkOrder(t, events)
			final := enc.Response()
			validateAgainst(t, "Response", final)
			if strings.Contains(string(final), "sk-ant-secret") {
				t.Errorf("the response shows the error's hidden cause: %s", final)
			}
			whole, err := EncodeResponse(accumulate(sc), &sc.Meta)
			if err != nil {
				t.Fatal(err)
			}
			validateAgainst(t, "Response", whole)
			if sc.Fail == "" && !bytes.Equal(final, whole) {
				t.Errorf("stream's response differs from EncodeResponse:\nstream: %s\nwhole:  %s", final, whole)
			}
			got, err := json.MarshalIndent(struct {
				Response json.RawMessage `json:"response"`
				Events   []event         `json:"events"`
			}{whole, events}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, append(got, '\n'))
		})
	}
}

// checkOrder checks the events follow the reference's lifecycle: created
// and in_progress first, one terminal event last, every item added before
// its deltas and done after them, and nothing of an item after its done.
func checkOrder(t *testing.T, events []event) {
	t.Helper()
	if len(events) < 3 || events[0].Event != "response.created" || events[1].Event != "response.in_progress" {
		t.Fatalf("the stream does not open with response.created, response.in_progress")
	}
	switch last := events[len(events)-1].Event; last {
	case "response.completed", "response.incomplete", "response.failed":
	default:
		t.Fatalf("the stream ends with %s", last)
	}
	state := map[int]string{}  // output_index -> added, done
	openPart := map[int]bool{} // output_index -> a content part is open
	for i, ev := range events[2 : len(events)-1] {
		var ref struct {
			OutputIndex *int `json:"output_index"`
		}
		if err := json.Unmarshal(ev.Data, &ref); err != nil || ref.OutputIndex == nil {
			t.Fatalf("event %d (%s) has no output_index", i+2, ev.Event)
		}
		n := *ref.OutputIndex
		switch ev.Event {
		case "response.output_item.added":
			if state[n] != "" || n != len(state) {
				t.Errorf("event %d adds item %d out of order", i+2, n)
			}
			state[n] = "added"
		case "response.output_item.done":
			if state[n] != "added" || openPart[n] {
				t.Errorf("event %d closes item %d, which is %q with a part open %v", i+2, n, state[n], openPart[n])
			}
			state[n] = "done"
		case "response.content_part.added", "response.reasoning_summary_part.added":
			if openPart[n] {
				t.Errorf("event %d opens a part of item %d before the last one is done", i+2, n)
			}
			openPart[n] = true
		case "response.content_part.done", "response.reasoning_summary_part.done":
			if !openPart[n] {
				t.Errorf("event %d closes a part of item %d that is not open", i+2, n)
			}
			openPart[n] = false
		default:
			if state[n] != "added" {
				t.Errorf("event %d (%s) is for item %d, which is %q", i+2, ev.Event, n, state[n])
			}
		}
	}
	for n, s := range state {
		if s != "done" && events[len(events)-1].Event != "response.failed" {
			t.Errorf("item %d is never closed", n)
		}
	}
}
