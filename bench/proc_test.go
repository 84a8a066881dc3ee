package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "1234 (llmgw) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 3250 * time.Millisecond, false},
		{"name with spaces and parens", "77 (a b) c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond, false},
		{"no name", "1234 llmgw S 1", 0, true},
		{"truncated", "1234 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatPPID(t *testing.T) {
	got, err := parseStatPPID([]byte("42 (nginx: worker (x)) S 41 41 41 0"))
	if err != nil || got != 41 {
		t.Fatalf("got %d, %v; want 41", got, err)
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tllmgw\nVmPeak:\t 1300000 kB\nVmHWM:\t   30720 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n"
	var ps ProcStat
	if err := parseStatus([]byte(in), &ps); err != nil {
		t.Fatal(err)
	}
	want := ProcStat{RSS: 20 << 20, HWM: 30 << 20, Threads: 9}
	if ps != want {
		t.Errorf("got %+v, want %+v", ps, want)
	}
	if err := parseStatus([]byte("Name:\tx\nVmRSS:\t1 kB\n"), &ps); err == nil {
		t.Error("missing fields should be an error")
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("123456789 5000 42\n"))
	if err != nil || got != 123456789 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := parseSchedstat([]byte("")); err == nil {
		t.Error("empty schedstat should be an error")
	}
}

func TestParseGoroutines(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
	}{
		{"present", "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 42\ngo_threads 9\n", 42},
		{"with labels", "go_goroutines{instance=\"a b\"} 17\n", 17},
		{"prefix only", "go_goroutines_total 5\n", -1},
		{"absent", "go_threads 9\n", -1},
		{"not prometheus", "404 page not found\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseGoroutines([]byte(tt.in)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestReadProcSelf(t *testing.T) {
	ps, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ps.RSS <= 0 || ps.HWM < ps.RSS || ps.Threads < 1 {
		t.Errorf("implausible stat of this process: %+v", ps)
	}
}
