package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// ev is a dispatched event as tests compare it: an owned copy with string data.
type ev struct {
	Type, Data, ID string
	Retry          int
}

// msg is an event with the given type and data and no id or retry.
func msg(typ, data string) ev { return ev{Type: typ, Data: data, Retry: -1} }

// readAll reads every event from r and returns owned copies and the final error.
func readAll(r io.Reader, max int) ([]ev, error) {
	rd := NewReader(r, max)
	var out []ev
	for {
		e, err := rd.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev{Type: e.Type, Data: string(e.Data), ID: e.ID, Retry: e.Retry})
	}
}

const openAIStream = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}

data: [DONE]

`

const anthropicStream = "event: message_start\r\n" +
	`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-haiku","usage":{"input_tokens":5,"output_tokens":1}}}` + "\r\n\r\n" +
	"event: content_block_start\r\n" +
	`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\r\n\r\n" +
	"event: ping\r\n" +
	`data: {"type": "ping"}` + "\r\n\r\n" +
	"event: content_block_delta\r\n" +
	`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}` + "\r\n\r\n" +
	"event: content_block_stop\r\n" +
	`data: {"type":"content_block_stop","index":0}` + "\r\n\r\n" +
	"event: message_delta\r\n" +
	`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}` + "\r\n\r\n" +
	"event: message_stop\r\n" +
	`data: {"type":"message_stop"}` + "\r\n\r\n"

// readerCases are parser cases shared by the table test and the split tests.
var readerCases = []struct {
	name    string
	in      string
	want    []ev
	wantErr error
}{
	{name: "empty", in: "", wantErr: io.EOF},
	{name: "single data", in: "data: hello\n\n", want: []ev{msg("", "hello")}, wantErr: io.EOF},
	{name: "multi-line data joined by LF", in: "data: a\ndata: b\ndata:\ndata: c\n\n", want: []ev{msg("", "a\nb\n\nc")}, wantErr: io.EOF},
	{name: "no space after colon", in: "data:x\n\n", want: []ev{msg("", "x")}, wantErr: io.EOF},
	{name: "only one space stripped", in: "data:  x \n\n", want: []ev{msg("", " x ")}, wantErr: io.EOF},
	{name: "colon in value", in: "data: a: b\n\n", want: []ev{msg("", "a: b")}, wantErr: io.EOF},
	{name: "empty data dispatched", in: "data:\n\n", want: []ev{msg("", "")}, wantErr: io.EOF},
	{name: "field without colon", in: "data\n\n", want: []ev{msg("", "")}, wantErr: io.EOF},
	{name: "event without colon resets type", in: "event: x\nevent\ndata: d\n\n", want: []ev{msg("", "d")}, wantErr: io.EOF},
	{name: "comments ignored", in: ": keep-alive\ndata: a\n:\n: another\ndata: b\n\n: trailing\n", want: []ev{msg("", "a\nb")}, wantErr: io.EOF},
	{name: "CRLF", in: "event: e\r\ndata: a\r\ndata: b\r\n\r\n", want: []ev{msg("e", "a\nb")}, wantErr: io.EOF},
	{name: "lone CR", in: "event: e\rdata: a\rdata: b\r\r", want: []ev{msg("e", "a\nb")}, wantErr: io.EOF},
	{name: "mixed endings", in: "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\n", want: []ev{msg("", "a\nb\nc"), msg("", "d")}, wantErr: io.EOF},
	{name: "CR then LF is one line end", in: "data: a\r\n\ndata: b\n\r\n", want: []ev{msg("", "a"), msg("", "b")}, wantErr: io.EOF},
	{name: "leading BOM stripped", in: "\uFEFFdata: a\n\n", want: []ev{msg("", "a")}, wantErr: io.EOF},
	{name: "second BOM is part of the field name", in: "\uFEFF\uFEFFdata: a\n\ndata: b\n\n", want: []ev{msg("", "b")}, wantErr: io.EOF},
	{name: "BOM-like prefix kept", in: "\xEF\xBBdata: a\n\ndata: b\n\n", want: []ev{msg("", "b")}, wantErr: io.EOF},
	{name: "BOM inside value kept", in: "data: \uFEFFa\n\n", want: []ev{msg("", "\uFEFFa")}, wantErr: io.EOF},
	{name: "event without data not dispatched", in: "event: ping\n\ndata: x\n\n", want: []ev{msg("", "x")}, wantErr: io.EOF},
	{name: "last event field wins", in: "event: a\nevent: b\ndata: x\n\n", want: []ev{msg("b", "x")}, wantErr: io.EOF},
	{name: "event after data", in: "data: x\nevent: late\n\n", want: []ev{msg("late", "x")}, wantErr: io.EOF},
	{name: "type does not carry over", in: "event: a\ndata: 1\n\ndata: 2\n\n", want: []ev{msg("a", "1"), msg("", "2")}, wantErr: io.EOF},
	{name: "unknown fields ignored", in: "foo: bar\nData: no\ndata : no\ndata: yes\n\n", want: []ev{msg("", "yes")}, wantErr: io.EOF},
	{
		name:    "id persists and can be reset",
		in:      "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\n",
		want:    []ev{{Data: "a", ID: "1", Retry: -1}, {Data: "b", ID: "1", Retry: -1}, {Data: "c", Retry: -1}, {Data: "d", ID: "2", Retry: -1}},
		wantErr: io.EOF,
	},
	{name: "id with NUL ignored", in: "id: 1\nid: a\x00b\ndata: x\n\n", want: []ev{{Data: "x", ID: "1", Retry: -1}}, wantErr: io.EOF},
	{
		name:    "retry digits only and persists",
		in:      "retry: 1500\ndata: a\n\nretry: 12a\ndata: b\n\nretry:  7\nretry:\nretry: 99999999999\ndata: c\n\nretry: 0\n\ndata: d\n\n",
		want:    []ev{{Data: "a", Retry: 1500}, {Data: "b", Retry: 1500}, {Data: "c", Retry: 1500}, {Data: "d", Retry: 0}},
		wantErr: io.EOF,
	},
	{name: "truncated after data line", in: "data: a\n\ndata: b\n", want: []ev{msg("", "a")}, wantErr: io.ErrUnexpectedEOF},
	{name: "truncated mid-line", in: "data: a\n\ndata: {\"x", want: []ev{msg("", "a")}, wantErr: io.ErrUnexpectedEOF},
	{name: "truncated after CR", in: "data: a\r", wantErr: io.ErrUnexpectedEOF},
	{name: "truncated after event field", in: "event: x\n", wantErr: io.ErrUnexpectedEOF},
	{name: "unterminated comment is clean", in: "data: a\n\n: bye", want: []ev{msg("", "a")}, wantErr: io.EOF},
	{name: "no final newline after blank line", in: "data: a\n\n", want: []ev{msg("", "a")}, wantErr: io.EOF},
	{name: "UTF-8 data", in: "data: héllo 世界 🎉\n\n", want: []ev{msg("", "héllo 世界 🎉")}, wantErr: io.EOF},
	{
		name: "OpenAI stream",
		in:   openAIStream,
		want: []ev{
			msg("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`),
			msg("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}`),
			msg("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`),
			msg("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`),
			msg("", "[DONE]"),
		},
		wantErr: io.EOF,
	},
	{
		name: "Anthropic stream",
		in:   anthropicStream,
		want: []ev{
			msg("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-haiku","usage":{"input_tokens":5,"output_tokens":1}}}`),
			msg("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
			msg("ping", `{"type": "ping"}`),
			msg("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`),
			msg("content_block_stop", `{"type":"content_block_stop","index":0}`),
			msg("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}`),
			msg("message_stop", `{"type":"message_stop"}`),
		},
		wantErr: io.EOF,
	},
}

func TestReader(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(strings.NewReader(tc.in), 0)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("final error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReaderSplitReads checks that how the input is cut into reads never
// changes the result.
func TestReaderSplitReads(t *testing.T) {
	readers := []struct {
		name string
		wrap func(string) io.Reader
	}{
		{"one byte", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
		{"half", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
		{"data with EOF", func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) }},
		{"three bytes", func(s string) io.Reader { return &chunkReader{s: s, n: 3} }},
	}
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range readers {
				got, err := readAll(rd.wrap(tc.in), 0)
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("%s: final error = %v, want %v", rd.name, err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: events mismatch (-want +got):\n%s", rd.name, diff)
				}
			}
			for i := 0; i <= len(tc.in); i++ {
				r := io.MultiReader(strings.NewReader(tc.in[:i]), strings.NewReader(tc.in[i:]))
				got, err := readAll(r, 0)
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("split at %d: final error = %v, want %v", i, err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("split at %d: events mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// chunkReader returns s at most n bytes per Read.
type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}

func TestReaderMaxEventSize(t *testing.T) {
	const max = 16
	tests := []struct {
		name    string
		in      string
		want    []ev
		wantErr error
	}{
		{name: "exactly max", in: "data: " + strings.Repeat("a", max) + "\n\n", want: []ev{msg("", strings.Repeat("a", max))}, wantErr: io.EOF},
		{name: "one over max", in: "data: ok\n\ndata: " + strings.Repeat("a", max+1) + "\n\n", want: []ev{msg("", "ok")}, wantErr: ErrEventTooLarge},
		{name: "joined lines at max", in: "data: " + strings.Repeat("a", 7) + "\ndata: " + strings.Repeat("b", 8) + "\n\n", want: []ev{msg("", "aaaaaaa\nbbbbbbbb")}, wantErr: io.EOF},
		{name: "joining newline counts", in: "data: " + strings.Repeat("a", 8) + "\ndata: " + strings.Repeat("b", 8) + "\n\n", wantErr: ErrEventTooLarge},
		{name: "many empty data lines", in: strings.Repeat("data:\n", max+2) + "\n", wantErr: ErrEventTooLarge},
		{name: "huge comment line", in: ":" + strings.Repeat("c", 10*max+lineAllowance) + "\ndata: x\n\n", wantErr: ErrEventTooLarge},
		{name: "huge unterminated line", in: "data: " + strings.Repeat("a", 10*max+lineAllowance), wantErr: ErrEventTooLarge},
		{name: "long line within allowance", in: ":" + strings.Repeat("c", max+lineAllowance-1) + "\ndata: x\n\n", want: []ev{msg("", "x")}, wantErr: io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readAll(r, max)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("final error = %v, want %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("events mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		want    []ev
		wantErr error
	}{
		{name: "read error", r: iotest.ErrReader(errBoom), wantErr: errBoom},
		{
			name:    "read error after an event",
			r:       io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(errBoom)),
			want:    []ev{msg("", "a")},
			wantErr: errBoom,
		},
		{name: "data returned with error", r: &errAfterData{data: "data: a\n\n", err: errBoom}, want: []ev{msg("", "a")}, wantErr: errBoom},
		{name: "no progress", r: zeroReader{}, wantErr: io.ErrNoProgress},
		{name: "invalid count", r: badCountReader{}, wantErr: errInvalidRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader(tc.r, 0)
			var got []ev
			var err error
			for {
				var e *Event
				if e, err = rd.Next(); err != nil {
					break
				}
				got = append(got, ev{Type: e.Type, Data: string(e.Data), ID: e.ID, Retry: e.Retry})
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("final error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if _, again := rd.Next(); again != err {
				t.Errorf("error not sticky: second Next = %v, first %v", again, err)
			}
		})
	}
}

// errAfterData returns all its data and err in the same Read call.
type errAfterData struct {
	data string
	err  error
}

func (e *errAfterData) Read(p []byte) (int, error) {
	n := copy(p, e.data)
	e.data = e.data[n:]
	if e.data == "" {
		return n, e.err
	}
	return n, nil
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

type badCountReader struct{}

func (badCountReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestReaderTypeCache(t *testing.T) {
	var in strings.Builder
	var want []ev
	for round := range 3 {
		for i := range 2 * typeCacheSize {
			typ := "type_" + strings.Repeat("x", i)
			if round == 1 {
				typ = "content_block_delta"
			}
			in.WriteString("event: " + typ + "\ndata: d\n\n")
			want = append(want, msg(typ, "d"))
		}
	}
	got, err := readAll(strings.NewReader(in.String()), 0)
	if err != io.EOF {
		t.Fatalf("final error = %v, want io.EOF", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

func TestIsDone(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"[DONE]", true},
		{" [DONE]\r\n", true},
		{"[DONE", false},
		{"[done]", false},
		{"", false},
		{`{"choices":[]}`, false},
		{"[DONE] x", false},
	}
	for _, tc := range tests {
		if got := IsDone([]byte(tc.in)); got != tc.want {
			t.Errorf("IsDone(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReaderNextDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	stream := openAIBenchStream(200)
	rd := NewReader(&loopReader{b: stream}, 0)
	for range 1000 { // warm up buffers
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per OpenAI event, want 0", allocs)
	}

	rd = NewReader(&loopReader{b: []byte(anthropicStream)}, 0)
	for range 100 {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs = testing.AllocsPerRun(1000, func() {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per Anthropic event, want 0", allocs)
	}
}
