package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records each write it is given, and can fail them or signal them.
type sink struct {
	mu      sync.Mutex
	writes  []string
	fail    error
	written chan struct{} // if set, sent to (without blocking) after each write
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer func() {
		s.mu.Unlock()
		if s.written != nil {
			select {
			case s.written <- struct{}{}:
			default:
			}
		}
	}()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) all() (writes []string, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...), strings.Join(s.writes, "")
}

func TestLogWriterConcurrentLinesWhole(t *testing.T) {
	const writers, lines = 8, 500
	s := &sink{}
	// A small buffer: many size flushes while writers append.
	l := NewLogWriter(s, 1000, time.Hour)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				// Lines of varied lengths, some longer than the buffer.
				line := fmt.Sprintf("w%d i%d %s\n", w, i, strings.Repeat("x", (i*37)%1500))
				if n, err := l.Write([]byte(line)); n != len(line) || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	writes, text := s.all()
	if len(writes) < 2 {
		t.Errorf("%d writes: the size flush did not happen", len(writes))
	}
	for _, w := range writes {
		if !strings.HasSuffix(w, "\n") {
			t.Fatalf("a write ends inside a line: %q", w[max(0, len(w)-40):])
		}
	}
	next := make([]int, writers) // the next line expected of each writer
	got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, line := range got {
		var w, i int
		var xs string
		if _, err := fmt.Sscanf(line, "w%d i%d %s", &w, &i, &xs); err != nil && !strings.HasSuffix(line, " ") {
			t.Fatalf("torn line %q: %v", line, err)
		}
		if w < 0 || w >= writers || i != next[w] || len(xs) != (i*37)%1500 || strings.Trim(xs, "x") != "" {
			t.Fatalf("line %.60q out of order or torn; want w%d i%d", line, w, next[max(0, min(w, writers-1))])
		}
		next[w]++
	}
	if len(got) != writers*lines {
		t.Errorf("%d lines, want %d", len(got), writers*lines)
	}
}

func TestLogWriterSizeFlush(t *testing.T) {
	s := &sink{}
	l := NewLogWriter(s, 64, time.Hour)
	line := []byte(strings.Repeat("a", 39) + "\n") // 40 bytes
	if _, err := l.Write(line); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.all(); len(w) != 0 {
		t.Fatalf("written before the buffer is full: %q", w)
	}
	if _, err := l.Write(line); err != nil { // 80 bytes: past 64
		t.Fatal(err)
	}
	if w, _ := s.all(); len(w) != 1 || w[0] != string(line)+string(line) {
		t.Fatalf("writes %q, want both lines in one", w)
	}
	if _, err := l.Write(line); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.all(); len(w) != 1 {
		t.Fatalf("the third line was written before the buffer is full: %q", w)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLogWriterIntervalFlush(t *testing.T) {
	s := &sink{written: make(chan struct{}, 1)}
	l := NewLogWriter(s, 1<<20, time.Millisecond)
	defer l.Close()
	for round := range 3 { // the timer re-arms after each flush
		line := fmt.Sprintf("round %d\n", round)
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		<-s.written // no Flush: only the timer writes
		if w, _ := s.all(); len(w) != round+1 || w[round] != line {
			t.Fatalf("writes %q after round %d", w, round)
		}
	}
}

func TestLogWriterFlushAndClose(t *testing.T) {
	s := &sink{}
	l := NewLogWriter(s, 1<<20, time.Hour)
	_, _ = l.Write([]byte("one\n"))
	_, _ = l.Write([]byte("two\n"))
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, text := s.all(); text != "one\ntwo\n" {
		t.Fatalf("after Flush: %q", text)
	}
	if err := l.Flush(); err != nil { // nothing to write
		t.Fatal(err)
	}
	_, _ = l.Write([]byte("three\n"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if w, text := s.all(); text != "one\ntwo\nthree\n" || len(w) != 2 {
		t.Fatalf("after Close: %q", w)
	}
	// After Close a line is written at once, and Close again is a no-op.
	_, _ = l.Write([]byte("four\n"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, text := s.all(); text != "one\ntwo\nthree\nfour\n" {
		t.Fatalf("after a write past Close: %q", text)
	}
}

func TestLogWriterErrors(t *testing.T) {
	boom := errors.New("boom")
	s := &sink{fail: boom}
	l := NewLogWriter(s, 8, time.Hour)
	// The Write that fills the buffer writes it out and reports the failure.
	if n, err := l.Write([]byte("0123456789\n")); n != 11 || !errors.Is(err, boom) {
		t.Errorf("Write = %d, %v; want 11, boom", n, err)
	}
	_, _ = l.Write([]byte("x\n"))
	if err := l.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want boom", err)
	}
	_, _ = l.Write([]byte("y\n"))
	if err := l.Close(); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want boom", err)
	}

	// A failed timer flush is reported by the next Flush, once.
	s = &sink{fail: boom, written: make(chan struct{}, 1)}
	l = NewLogWriter(s, 1<<20, time.Millisecond)
	defer l.Close()
	_, _ = l.Write([]byte("z\n"))
	<-s.written
	// The timer's flush keeps its error before it lets another flush
	// begin: Flush, which waits for it, sees it.
	err := l.Flush()
	if !errors.Is(err, boom) {
		t.Errorf("Flush after a failed timer flush = %v, want boom", err)
	}
	if err := l.Flush(); err != nil {
		t.Errorf("the error was reported twice: %v", err)
	}
}

func TestNewLoggerFlushesOnWarn(t *testing.T) {
	s := &sink{}
	l := NewLogWriter(s, 1<<20, time.Hour)
	log := NewLogger(l, slog.LevelDebug).With("component", "test")
	log.Info("request", "status", 200)
	if w, _ := s.all(); len(w) != 0 {
		t.Fatalf("an INFO line was written at once: %q", w)
	}
	log.Warn("trouble", "err", "x")
	w, text := s.all()
	if len(w) != 1 {
		t.Fatalf("writes %q; want the INFO and WARN lines in one", w)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	want := []map[string]any{
		{"level": "INFO", "msg": "request", "component": "test", "status": float64(200)},
		{"level": "WARN", "msg": "trouble", "component": "test", "err": "x"},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if _, ok := got["time"]; !ok {
			t.Errorf("line %q has no time", line)
		}
		delete(got, "time")
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("line %d = %v, want %v", i, got, want[i])
		}
	}
	// The level applies: DEBUG is dropped at INFO.
	log = NewLogger(l, slog.LevelInfo)
	log.Debug("hidden")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, text := s.all(); strings.Contains(text, "hidden") {
		t.Errorf("a DEBUG line was logged at INFO: %s", text)
	}
}

// The output of NewLogger is that of slog's JSON handler: the gateway's log
// lines keep their shape.
func TestNewLoggerSameLinesAsJSONHandler(t *testing.T) {
	var direct bytes.Buffer
	s := &sink{}
	l := NewLogWriter(s, 1<<20, time.Hour)
	at := time.Date(2025, 8, 21, 12, 40, 0, 123456789, time.UTC)
	for _, log := range []*slog.Logger{slog.New(slog.NewJSONHandler(&direct, nil)), NewLogger(l, slog.LevelInfo)} {
		r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("request_id", "abc"), slog.Int("status", 200), slog.Float64("duration_ms", 1.25), slog.Bool("stream", false))
		if err := log.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, text := s.all(); text != direct.String() {
		t.Errorf("buffered line %q, direct %q", text, direct.String())
	}
}

// BenchmarkLogWriter is an access-log-sized line logged through slog from
// parallel goroutines, written at once or through a LogWriter, to a pipe
// drained by another goroutine as a log collector would, and to a file:
// the difference is the write(2) per line.
func BenchmarkLogWriter(b *testing.B) {
	for _, to := range []string{"pipe", "file"} {
		for _, buffered := range []bool{false, true} {
			name := to + "/direct"
			if buffered {
				name = to + "/buffered"
			}
			b.Run(name, func(b *testing.B) {
				var f *os.File
				if to == "pipe" {
					r, w, err := os.Pipe()
					if err != nil {
						b.Fatal(err)
					}
					drained := make(chan struct{})
					go func() { _, _ = io.Copy(io.Discard, r); close(drained) }()
					defer func() { <-drained; r.Close() }()
					f = w
				} else {
					var err error
					if f, err = os.CreateTemp(b.TempDir(), "log"); err != nil {
						b.Fatal(err)
					}
				}
				defer f.Close()
				var w io.Writer = f
				done := func() error { return nil }
				if buffered {
					l := NewLogWriter(f, 0, 0)
					w, done = l, l.Close
				}
				log := slog.New(slog.NewJSONHandler(w, nil))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						log.LogAttrs(context.Background(), slog.LevelInfo, "request",
							slog.String("request_id", "0123456789abcdef0123456789abcdef"), slog.String("method", "POST"),
							slog.String("path", "/v1/chat/completions"), slog.Int("status", 200),
							slog.Float64("duration_ms", 1.234), slog.Int64("bytes", 612))
					}
				})
				if err := done(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			})
		}
	}
}
