package ledger_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/ledger"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// flaky is a real ledger that can be made to fail as an unreachable
// database would.
type flaky struct {
	store.Ledger
	down atomic.Bool
}

func (f *flaky) Insert(ctx context.Context, recs []store.UsageRecord) (int, error) {
	if f.down.Load() {
		return 0, errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
	}
	return f.Ledger.Insert(ctx, recs)
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rec(i int) store.UsageRecord {
	return store.UsageRecord{RequestID: fmt.Sprintf("req-%06d", i), At: time.Now(), Tenant: "acme", KeyName: "ci",
		Model: "mock", Provider: "mock", InputTokens: 10, OutputTokens: 5, Status: 200}
}

func count(t *testing.T, s store.Store) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := s.Ledger().Scan(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour),
			store.ListOptions{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			if seen[r.RequestID] {
				t.Fatalf("%s is in the ledger twice", r.RequestID)
			}
			seen[r.RequestID] = true
		}
		if cursor = page.Next; cursor == "" {
			return seen
		}
	}
}

func open(t *testing.T, l store.Ledger, spool string, o ledger.Options) *ledger.Writer {
	t.Helper()
	o.Store, o.SpoolPath = l, spool
	if o.FlushInterval == 0 {
		o.FlushInterval = 20 * time.Millisecond
	}
	w, err := ledger.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

func TestEveryRecordWrittenOnClose(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "llmgw.db"))
	w := open(t, s.Ledger(), filepath.Join(dir, "spool"), ledger.Options{FlushInterval: time.Hour, BatchSize: 64})
	for i := range 1000 {
		w.Add(rec(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(count(t, s)); n != 1000 {
		t.Fatalf("%d records in the ledger, want 1000", n)
	}
	if st := w.Stats(); st.Written != 1000 || st.Spooled != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// With the store down, records go to the spool, and to the store once it
// answers again; none is lost or doubled.
func TestStoreDownSpoolsThenReplays(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "llmgw.db"))
	f := &flaky{Ledger: s.Ledger()}
	f.down.Store(true)
	w := open(t, f, filepath.Join(dir, "spool"), ledger.Options{Cooldown: 50 * time.Millisecond})
	for i := range 300 {
		w.Add(rec(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Stats().Spooled < 300 {
		if time.Now().After(deadline) {
			t.Fatalf("not spooled: %+v", w.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(count(t, s)); n != 0 {
		t.Fatalf("%d records reached a store that is down", n)
	}
	f.down.Store(false)
	for w.Stats().SpoolBytes > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed: %+v", w.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(count(t, s)); n != 300 {
		t.Fatalf("%d records after the replay, want 300", n)
	}
	if st := w.Stats(); st.Dropped != 0 || st.Written != 300 {
		t.Fatalf("stats %+v", st)
	}
}

// The spool is bounded: past its size records are dropped, counted and
// logged, never more disk.
func TestSpoolBounded(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "llmgw.db"))
	f := &flaky{Ledger: s.Ledger()}
	f.down.Store(true)
	spool := filepath.Join(dir, "spool")
	w := open(t, f, spool, ledger.Options{SpoolMaxBytes: 4096, BatchSize: 1})
	for i := range 100 {
		w.Add(rec(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	fi, err := os.Stat(spool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped == 0 || st.Spooled+st.Dropped != 100 || fi.Size() > 4096 || st.Spooled == 0 {
		t.Fatalf("stats %+v, spool %d bytes", st, fi.Size())
	}
	// The loss shows in the metrics, as the spool's size does.
	want := fmt.Sprintf(`
# HELP llmgw_ledger_records_dropped_total Usage records lost because the spool was full or the disk refused a write.
# TYPE llmgw_ledger_records_dropped_total counter
llmgw_ledger_records_dropped_total %d
# HELP llmgw_ledger_spool_bytes Size of the local spool of usage records waiting for the store.
# TYPE llmgw_ledger_spool_bytes gauge
llmgw_ledger_spool_bytes %d
`, st.Dropped, fi.Size())
	if err := testutil.CollectAndCompare(w.Collector(), strings.NewReader(want),
		"llmgw_ledger_records_dropped_total", "llmgw_ledger_spool_bytes"); err != nil {
		t.Fatal(err)
	}
}

// A spool left by a process that died is replayed by the next; a line cut
// short by the crash is skipped; records already stored count once.
func TestSpoolLeftBehindIsReplayed(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "llmgw.db"))
	if _, err := s.Ledger().Insert(context.Background(), []store.UsageRecord{rec(1)}); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	var lines []string
	for i := range 5 {
		b := fmt.Sprintf(`{"RequestID":"req-%06d","At":%q,"Tenant":"acme","InputTokens":10,"Status":200}`, i, time.Now().Format(time.RFC3339Nano))
		lines = append(lines, b)
	}
	content := strings.Join(lines, "\n") + "\n" + `{"RequestID":"req-0000` // cut short
	if err := os.WriteFile(spool, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	w := open(t, s.Ledger(), spool, ledger.Options{})
	deadline := time.Now().Add(5 * time.Second)
	for w.Stats().SpoolBytes > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not replayed: %+v", w.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(count(t, s)); n != 5 {
		t.Fatalf("%d records, want 5", n)
	}
	if st := w.Stats(); st.Dropped != 1 || st.Written != 4 {
		t.Fatalf("stats %+v: want the cut line dropped and 4 new records", st)
	}
}

// childEnv runs the test binary as a process that writes records until it
// is killed.
const childEnv = "LLMGW_LEDGER_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		child(dir)
		return
	}
	os.Exit(m.Run())
}

// child adds a record every 500 µs and prints, after each, its number and
// the time it was added.
func child(dir string) {
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "llmgw.db"))
	if err != nil {
		panic(err)
	}
	w, err := ledger.Open(ledger.Options{Store: s.Ledger(), SpoolPath: filepath.Join(dir, "spool")})
	if err != nil {
		panic(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		w.Add(rec(i))
		fmt.Fprintf(out, "%d %d\n", i, time.Now().UnixNano())
		if i%20 == 0 {
			out.Flush()
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// kill -9 in the middle of load: at most the last second of records is
// missing, and none is counted twice.
func TestKillNineLosesAtMostTheLastSecond(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	added := map[int]int64{}
	lines := make(chan [2]int64, 1<<16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			i, _ := strconv.ParseInt(f[0], 10, 64)
			at, _ := strconv.ParseInt(f[1], 10, 64)
			lines <- [2]int64{i, at}
		}
		close(lines)
	}()
	time.Sleep(2 * time.Second)
	killedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for l := range lines {
		added[int(l[0])] = l[1]
	}
	if len(added) < 500 {
		t.Fatalf("the child added only %d records", len(added))
	}
	// What the spool holds is written by the next process: open one.
	s := openStore(t, filepath.Join(dir, "llmgw.db"))
	w := open(t, s.Ledger(), filepath.Join(dir, "spool"), ledger.Options{})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	stored := count(t, s) // fails on any record stored twice
	missingOld, missingRecent := 0, 0
	for i, at := range added {
		if stored[fmt.Sprintf("req-%06d", i)] {
			continue
		}
		if time.Unix(0, at).Before(killedAt.Add(-time.Second)) {
			missingOld++
		} else {
			missingRecent++
		}
	}
	if missingOld > 0 {
		t.Fatalf("%d records added more than a second before the kill are missing", missingOld)
	}
	t.Logf("added %d records in 2 s; after kill -9: %d stored, %d of the last second missing", len(added), len(stored), missingRecent)
}

// TestQueueMemoryFollowsRecords: the queue holds memory for the records
// waiting in it, not for the QueueSize it may hold, and a writer that
// took a burst gives the burst's memory back.
func TestQueueMemoryFollowsRecords(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "db.sqlite"))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	w := open(t, s.Ledger(), filepath.Join(dir, "spool"), ledger.Options{QueueSize: 1 << 20, FlushInterval: time.Hour})
	if grew := int64(heap()) - int64(before); grew > 4<<20 {
		t.Fatalf("an empty writer with room for 1M records holds %d MiB", grew>>20)
	}
	for i := range 100 {
		w.Add(rec(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(count(t, s)); n != 100 {
		t.Fatalf("%d records in the ledger, want 100", n)
	}
}
