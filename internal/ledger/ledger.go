package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// Options configure a Writer.
type Options struct {
	// Store is where records go.
	Store store.Ledger
	// SpoolPath is the spool file; its directory is created (0700).
	SpoolPath string
	// SpoolMaxBytes bounds the spool; default 256 MiB.
	SpoolMaxBytes int64
	// FlushInterval is the longest a record waits in memory; default
	// 200 ms. BatchSize is the most records per insert; default 500.
	FlushInterval time.Duration
	BatchSize     int
	// QueueSize bounds the records held in memory; default 65536.
	QueueSize int
	// StoreTimeout bounds one insert; default 5 s. Cooldown is how long
	// batches go straight to the spool after the store failed; default 1 s.
	StoreTimeout time.Duration
	Cooldown     time.Duration
	Logger       *slog.Logger
}

// Stats are a Writer's counters.
type Stats struct {
	Written     int64 // records inserted into the store (new ones)
	Spooled     int64 // records appended to the spool
	Dropped     int64 // records lost: the spool was full or the disk refused
	SpoolBytes  int64 // the spool's current size
	QueueLength int   // records waiting in memory
}

// Writer writes usage records to the ledger. It is safe for concurrent
// use.
type Writer struct {
	o Options

	// The queue: records appended by Add, taken whole by the writer
	// goroutine. A slice rather than a channel, so that memory follows
	// the records waiting, not QueueSize (a channel's buffer is
	// allocated whole, and its ring touches every page of it in turn).
	mu      sync.Mutex
	pending []store.UsageRecord
	closed  bool          // the writer took its last records: Add spools
	wake    chan struct{} // a batch is full

	spoolMu    sync.Mutex
	spool      *os.File
	spoolBytes int64

	written, spooled, dropped atomic.Int64
	downUntil                 atomic.Int64 // Unix nanoseconds; the store is skipped before it

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// Open returns a Writer and starts its goroutine. A spool left by an
// earlier process is replayed once the store answers.
func Open(o Options) (*Writer, error) {
	if o.Store == nil || o.SpoolPath == "" {
		return nil, errors.New("ledger: a store and a spool path are required")
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = 256 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 65536
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 5 * time.Second
	}
	if o.Cooldown <= 0 {
		o.Cooldown = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(o.SpoolPath), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: spool: %w", err)
	}
	f, err := os.OpenFile(o.SpoolPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: spool: %w", err)
	}
	w := &Writer{o: o, wake: make(chan struct{}, 1), spool: f, spoolBytes: st.Size(),
		stop: make(chan struct{}), done: make(chan struct{})}
	if st.Size() > 0 {
		o.Logger.Info("usage records left in the spool will be written once the store answers", "spool", o.SpoolPath, "bytes", st.Size())
	}
	go w.run()
	return w, nil
}

// Add queues r. It does not block while the queue has room; when it is
// full, r is written to the spool before Add returns. Add must not be
// called after Close (the server drains first): such a record is dropped
// and logged.
func (w *Writer) Add(r store.UsageRecord) {
	w.mu.Lock()
	if w.closed || len(w.pending) >= w.o.QueueSize {
		w.mu.Unlock()
		w.toSpool([]store.UsageRecord{r})
		return
	}
	w.pending = append(w.pending, r)
	full := len(w.pending) == w.o.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	w.spoolMu.Lock()
	sb := w.spoolBytes
	w.spoolMu.Unlock()
	w.mu.Lock()
	ql := len(w.pending)
	w.mu.Unlock()
	return Stats{Written: w.written.Load(), Spooled: w.spooled.Load(), Dropped: w.dropped.Load(), SpoolBytes: sb, QueueLength: ql}
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.o.FlushInterval)
	defer t.Stop()
	var spare []store.UsageRecord
	for {
		tick, last := false, false
		select {
		case <-w.wake:
		case <-t.C:
			tick = true
		case <-w.stop:
			last = true
		}
		w.mu.Lock()
		taken := w.pending
		w.pending = spare
		w.closed = last
		w.mu.Unlock()
		for batch := taken; len(batch) > 0; {
			n := min(len(batch), w.o.BatchSize)
			w.write(batch[:n])
			batch = batch[n:]
		}
		// Keep one batch's buffer for the next turn; a larger one, left by
		// a burst, goes back to the heap.
		spare = nil
		if cap(taken) <= 2*w.o.BatchSize {
			clear(taken)
			spare = taken[:0]
		}
		if tick || last {
			w.replay()
		}
		if last {
			return
		}
	}
}

// storeUp reports whether to try the store now.
func (w *Writer) storeUp() bool { return time.Now().UnixNano() >= w.downUntil.Load() }

// insert writes batch to the store, or reports why it could not.
func (w *Writer) insert(batch []store.UsageRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.StoreTimeout)
	defer cancel()
	n, err := w.o.Store.Insert(ctx, batch)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return err
		}
		if w.storeUp() {
			w.o.Logger.Error("the store does not take usage records; spooling them until it does", "err", err.Error())
		}
		w.downUntil.Store(time.Now().Add(w.o.Cooldown).UnixNano())
		return err
	}
	w.written.Add(int64(n))
	return nil
}

// write inserts batch, or spools it when the store fails. A batch the
// store refuses as invalid is written record by record so that one bad
// record does not take the others with it.
func (w *Writer) write(batch []store.UsageRecord) {
	if !w.storeUp() {
		w.toSpool(batch)
		return
	}
	err := w.insert(batch)
	if err == nil {
		return
	}
	if errors.Is(err, store.ErrInvalid) {
		for i := range batch {
			if err := w.insert(batch[i : i+1]); err != nil {
				if errors.Is(err, store.ErrInvalid) {
					w.dropped.Add(1)
					w.o.Logger.Error("a usage record was refused as invalid and dropped", "request_id", batch[i].RequestID, "err", err.Error())
					continue
				}
				w.toSpool(batch[i:])
				return
			}
		}
		return
	}
	w.toSpool(batch)
}

// toSpool appends batch to the spool and syncs it, or drops it when the
// spool is full or the disk refuses.
func (w *Writer) toSpool(batch []store.UsageRecord) {
	var buf []byte
	for i := range batch {
		b, err := json.Marshal(&batch[i])
		if err != nil {
			continue
		}
		buf = append(append(buf, b...), '\n')
	}
	w.spoolMu.Lock()
	defer w.spoolMu.Unlock()
	if w.spoolBytes+int64(len(buf)) > w.o.SpoolMaxBytes {
		w.dropped.Add(int64(len(batch)))
		w.o.Logger.Error("usage records dropped: the spool is full", "records", len(batch), "spool", w.o.SpoolPath,
			"spool_bytes", w.spoolBytes, "max_bytes", w.o.SpoolMaxBytes)
		return
	}
	n, err := w.spool.Write(buf)
	if err == nil {
		err = w.spool.Sync()
	}
	if err != nil {
		// A partial line is skipped at replay; the batch counts as lost.
		w.spoolBytes += int64(n)
		w.dropped.Add(int64(len(batch)))
		w.o.Logger.Error("usage records dropped: the spool cannot be written", "records", len(batch), "spool", w.o.SpoolPath, "err", err.Error())
		return
	}
	w.spoolBytes += int64(n)
	w.spooled.Add(int64(len(batch)))
}

// replay writes the spool to the store, when it holds something and the
// store answers, then empties it. Records appended while it runs wait for
// the next replay (the lock is held throughout: appends wait, briefly).
func (w *Writer) replay() {
	if !w.storeUp() {
		return
	}
	w.spoolMu.Lock()
	defer w.spoolMu.Unlock()
	if w.spoolBytes == 0 {
		return
	}
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return
	}
	sc := bufio.NewScanner(w.spool)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	batch := make([]store.UsageRecord, 0, w.o.BatchSize)
	bad := 0
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		err := w.insert(batch)
		if errors.Is(err, store.ErrInvalid) {
			for i := range batch {
				if err := w.insert(batch[i : i+1]); err != nil && !errors.Is(err, store.ErrInvalid) {
					return false
				} else if err != nil {
					bad++
				}
			}
			err = nil
		}
		batch = batch[:0]
		return err == nil
	}
	for sc.Scan() {
		var r store.UsageRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad++
			continue
		}
		batch = append(batch, r)
		if len(batch) >= w.o.BatchSize && !flush() {
			return // the store failed again: the spool stays, whole
		}
	}
	if err := sc.Err(); err != nil {
		w.o.Logger.Error("cannot read the usage spool", "spool", w.o.SpoolPath, "err", err.Error())
		return
	}
	if !flush() {
		return
	}
	if bad > 0 {
		w.dropped.Add(int64(bad))
		w.o.Logger.Error("unreadable usage records skipped in the spool", "records", bad, "spool", w.o.SpoolPath)
	}
	if err := w.spool.Truncate(0); err != nil {
		w.o.Logger.Error("cannot empty the usage spool; it will be replayed again (records count once)", "err", err.Error())
		return
	}
	_ = w.spool.Sync()
	w.spoolBytes = 0
	w.o.Logger.Info("usage records replayed from the spool")
}

// Close writes what is queued (to the store, else the spool), replays the
// spool when the store answers, and stops the writer. ctx bounds the wait.
func (w *Writer) Close(ctx context.Context) error {
	var err error
	w.closeOnce.Do(func() {
		close(w.stop)
		select {
		case <-w.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		w.spoolMu.Lock()
		defer w.spoolMu.Unlock()
		if cerr := w.spool.Close(); err == nil {
			err = cerr
		}
	})
	return err
}
