package costcap

import (
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1", 1_000_000_000_000},
		{"0.01", 10_000_000_000},
		{"0.000000000001", 1},
		{".5", 500_000_000_000},
		{"007.25", 7_250_000_000_000},
		{" 2 ", 2_000_000_000_000},
		{"9000000", 9_000_000_000_000_000_000},
		{"9000000.000000000000", 9_000_000_000_000_000_000},
	} {
		got, err := ParseHeader([]string{tc.in})
		if err != nil || got != tc.want {
			t.Errorf("ParseHeader(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range [][]string{
		nil, {}, {"1", "2"}, {""}, {"  "}, {"0"}, {"0.0"}, {"-1"}, {"+1"}, {"1e3"}, {"NaN"}, {"Inf"},
		{"-Inf"}, {"$1"}, {"1."}, {"."}, {"1.2.3"}, {"0x1"}, {"1,5"}, {"0.0000000000001"},
		{"9000000.000000000001"}, {"9000001"}, {"99999999999999999999999"}, {strings.Repeat("1", 1<<16)},
		{"1\x00"}, {"\xff"}, {"１"},
	} {
		_, err := ParseHeader(in)
		e := llm.AsError(err)
		if err == nil || e.Kind != llm.KindInvalidRequest || e.Param != Header {
			t.Errorf("ParseHeader(%q): %v; want an invalid request naming the header", in, err)
			continue
		}
		if len(e.Message) > 200 {
			t.Errorf("ParseHeader(%.20q): message of %d bytes", in, len(e.Message))
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"1", "0.01", "-1", "1e3", "9000000", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseHeader([]string{s})
		if err != nil {
			if e := llm.AsError(err); e.Param != Header {
				t.Fatalf("%q: error without the header as param: %v", s, err)
			}
			return
		}
		if got <= 0 || got > maxPico {
			t.Fatalf("%q: accepted %d", s, got)
		}
	})
}
