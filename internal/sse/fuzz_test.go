package sse

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzMax is small so that fuzzing reaches the size limits.
const fuzzMax = 64

func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("data: " + strings.Repeat("x", fuzzMax+1) + "\n\n"))
	f.Add([]byte(":" + strings.Repeat("c", 3*fuzzMax) + "\ndata: a\n\n"))
	f.Add([]byte("\xEF\xBB\xBF\r\r\n\n\rdata\rid:\x00\rretry:12\r\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := refParse(string(in))

		// Unbounded (default maximum): must match the reference parser.
		got, err := readAll(bytes.NewReader(in), 0)
		if err != wantErr {
			t.Fatalf("final error = %v, reference %v", err, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("events differ from reference (-ref +got):\n%s", diff)
		}

		// Bounded: no event over the limit; up to a size error, the same events.
		small, smallErr := readAll(bytes.NewReader(in), fuzzMax)
		for i, e := range small {
			if len(e.Data) > fuzzMax {
				t.Fatalf("event %d has %d bytes of data, max %d", i, len(e.Data), fuzzMax)
			}
		}
		switch {
		case errors.Is(smallErr, ErrEventTooLarge):
			if len(small) > len(want) {
				t.Fatalf("bounded reader returned %d events, reference %d", len(small), len(want))
			}
			want = want[:len(small)]
		case smallErr != wantErr:
			t.Fatalf("bounded final error = %v, reference %v", smallErr, wantErr)
		}
		if diff := cmp.Diff(want, small, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("bounded events differ from reference (-ref +got):\n%s", diff)
		}

		// One byte per read: exactly the same as one read.
		whole, wholeErr := readAll(bytes.NewReader(in), fuzzMax)
		bytewise, bytewiseErr := readAll(iotest.OneByteReader(bytes.NewReader(in)), fuzzMax)
		if wholeErr != bytewiseErr {
			t.Fatalf("final error with 1-byte reads = %v, with one read %v", bytewiseErr, wholeErr)
		}
		if diff := cmp.Diff(whole, bytewise); diff != "" {
			t.Fatalf("1-byte reads differ from one read (-one +bytewise):\n%s", diff)
		}
	})
}

// refParse is a deliberately plain transcription of the specification's event
// stream interpretation, with this package's choices (Type "" by default,
// io.ErrUnexpectedEOF for a stream cut inside an event), and no size limit.
func refParse(s string) ([]ev, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	var (
		events  []ev
		data    []string
		hasData bool
		typ, id string
		retry   = -1
		inEvent bool
	)
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			break
		}
		line := s[:i]
		if strings.HasPrefix(s[i:], "\r\n") {
			s = s[i+2:]
		} else {
			s = s[i+1:]
		}
		if line == "" {
			if hasData {
				events = append(events, ev{Type: typ, Data: strings.Join(data, "\n"), ID: id, Retry: retry})
			}
			data, hasData, typ, inEvent = nil, false, "", false
			continue
		}
		if line[0] == ':' {
			continue
		}
		inEvent = true
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "data":
			data, hasData = append(data, value), true
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		case "retry":
			if n, err := strconv.Atoi(value); err == nil && value != "" && n <= 1<<31-1 &&
				strings.Trim(value, "0123456789") == "" {
				retry = n
			}
		}
	}
	if inEvent || (s != "" && s[0] != ':') {
		return events, io.ErrUnexpectedEOF
	}
	return events, io.EOF
}
