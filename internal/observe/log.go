package observe

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults of a LogWriter.
const (
	// DefaultLogBuffer is the size past which a LogWriter writes its lines
	// out at once.
	DefaultLogBuffer = 64 << 10
	// DefaultLogInterval is the longest a line waits in a LogWriter.
	DefaultLogInterval = 100 * time.Millisecond
)

// LogWriter buffers whole log lines for an underlying writer, so that a
// busy gateway makes one write for many lines instead of one per line (the
// access log writes one per request). The buffer is written out when it
// passes its size, when the oldest line in it has waited the interval (by
// one timer, armed only while the buffer holds something), on Flush and on
// Close. Each Write is appended whole under one lock, so lines never
// interleave or tear; the order of lines is the order of Writes.
//
// A failed write of the underlying writer loses the lines it held; the
// error is returned by the Write that triggered it, or by the next Flush or
// Close when the timer did. After Close, writes go straight to the
// underlying writer. It is safe for concurrent use.
type LogWriter struct {
	w        io.Writer
	size     int
	interval time.Duration
	timer    *time.Timer

	// out serializes writes to w, and so keeps the buffers written out in
	// the order they were filled; spare is the buffer written out last,
	// reused. Taken before mu when both are held.
	out   sync.Mutex
	spare []byte

	mu     sync.Mutex
	buf    []byte
	armed  bool  // the timer will flush
	err    error // a failed timer flush, for the next Flush or Close
	closed bool
}

// NewLogWriter returns a LogWriter writing to w when its buffer passes size
// bytes or a line has waited interval (the defaults when zero or less).
func NewLogWriter(w io.Writer, size int, interval time.Duration) *LogWriter {
	if size <= 0 {
		size = DefaultLogBuffer
	}
	if interval <= 0 {
		interval = DefaultLogInterval
	}
	l := &LogWriter{w: w, size: size, interval: interval, buf: make([]byte, 0, size)}
	l.timer = time.AfterFunc(time.Hour, l.tick)
	l.timer.Stop()
	return l
}

// Write appends p, a whole log line as slog handlers write them, to the
// buffer. It writes the buffer out when p takes it past its size, and
// returns that write's error.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.out.Lock()
		defer l.out.Unlock()
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	full := len(l.buf) >= l.size
	if !full && !l.armed {
		l.armed = true
		l.timer.Reset(l.interval)
	}
	l.mu.Unlock()
	if full {
		if err := l.flush(false); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// Flush writes out what the buffer holds. It returns the error of that
// write, else of a timer's write that failed since the last Flush.
func (l *LogWriter) Flush() error {
	err := l.flush(false)
	l.mu.Lock()
	if err == nil {
		err = l.err
	}
	l.err = nil
	l.mu.Unlock()
	return err
}

// Close writes out the buffer and stops the timer; later writes go
// straight to the underlying writer, after the buffer. It returns the error
// of that write, else of a timer's write that failed since the last Flush.
// Close is idempotent.
func (l *LogWriter) Close() error {
	l.out.Lock()
	defer l.out.Unlock()
	l.mu.Lock()
	l.closed = true
	l.timer.Stop()
	b, err := l.buf, l.err
	l.buf, l.err = nil, nil
	l.mu.Unlock()
	if len(b) > 0 {
		if _, werr := l.w.Write(b); werr != nil {
			err = werr
		}
	}
	return err
}

// tick is the interval flush.
func (l *LogWriter) tick() {
	l.mu.Lock()
	l.armed = false
	l.mu.Unlock()
	_ = l.flush(true)
}

// flush writes out the buffer, swapping in the spare one so that lines can
// be appended during the write. With keep, a failure is kept for the next
// Flush or Close, before another flush can begin.
func (l *LogWriter) flush(keep bool) error {
	l.out.Lock()
	defer l.out.Unlock()
	if l.spare == nil {
		l.spare = make([]byte, 0, l.size)
	}
	l.mu.Lock()
	b := l.buf
	if len(b) == 0 || l.closed {
		l.mu.Unlock()
		return nil
	}
	l.buf, l.spare = l.spare, nil
	l.mu.Unlock()
	_, err := l.w.Write(b)
	if cap(b) <= 4*l.size { // one burst's oversized buffer is not kept
		l.spare = b[:0]
	}
	if err != nil && keep {
		l.mu.Lock()
		if l.err == nil {
			l.err = err
		}
		l.mu.Unlock()
	}
	return err
}

// NewLogger returns the gateway's logger: JSON lines at level and above
// written to w. A line at WARN or above flushes w at once, so that what
// goes wrong is seen without delay, along with the lines before it.
func NewLogger(w *LogWriter, level slog.Leveler) *slog.Logger {
	return slog.New(flushHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), w})
}

// flushHandler flushes its LogWriter after a record at WARN or above.
type flushHandler struct {
	slog.Handler
	w *LogWriter
}

func (h flushHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushHandler{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushHandler) WithGroup(name string) slog.Handler {
	return flushHandler{h.Handler.WithGroup(name), h.w}
}
