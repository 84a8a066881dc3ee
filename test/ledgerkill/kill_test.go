package ledgerkill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/testbin"
)

// secret is the gateway's server secret.
const secret = "ledgerkill-test-secret-0123456789abcdef"

// spoolName is the ledger's spool in the data directory, as llmgw serve
// names it.
const spoolName = "ledger.spool"

// flushMargin is how long before the kill a request must have been
// answered to be owed a record: the writer's flush interval (200 ms), one
// insert, and a margin for a loaded machine.
const flushMargin = time.Second

// Phases of the load: the database takes records for storeUp, then refuses
// them (records go to the spool) for storeRefusing, then the gateway is
// killed.
const (
	storeUp       = 800 * time.Millisecond
	storeRefusing = 1500 * time.Millisecond
	workers       = 4
	// pace is each worker's pause between requests: a steady load of
	// well over a thousand requests a second that leaves the machine
	// some room.
	pace = time.Millisecond
)

// process is a running `llmgw serve`.
type process struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *testbin.Log
}

// serve starts `llmgw serve` on the config file and waits until it is
// ready.
func serve(t *testing.T, cfg string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{addr: addr, exited: make(chan struct{}), logs: &testbin.Log{}}
	p.cmd = exec.Command(binary, "serve", "--config", cfg, "--listen", addr)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("gateway exited at start:\n%s", p.logs.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// answered is a request that got its whole answer, and when.
type answered struct {
	id string
	at time.Time
}

// load sends chat requests from several workers, each with an x-request-id
// of its own, until stop is closed, and returns the ones answered whole:
// status 200, the body read to its end, the same x-request-id echoed.
func load(addr string, stop <-chan struct{}) (sent int, done []answered) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("lk-%d-%06d", w, n)
				mu.Lock()
				sent++
				mu.Unlock()
				if ok := request(client, addr, id); ok {
					at := time.Now()
					mu.Lock()
					done = append(done, answered{id, at})
					mu.Unlock()
				}
				time.Sleep(pace)
			}
		}()
	}
	wg.Wait()
	return sent, done
}

// request sends one chat request and reports whether its whole answer came.
func request(client *http.Client, addr, id string) bool {
	body := `{"model":"mock","messages":[{"role":"user","content":"count this request ` + id + `"}]}`
	req, err := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", id)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == 200 && resp.Header.Get("X-Request-Id") == id && bytes.Contains(b, []byte(id))
}

// clientID is the client's x-request-id a ledger ID was made from: the
// ledger suffixes a client's ID with ".<16 hex digits>" of its own.
func clientID(ledgerID string) string {
	if i := strings.LastIndexByte(ledgerID, '.'); i > 0 {
		return ledgerID[:i]
	}
	return ledgerID
}

// ledgerIDs returns the request IDs of the ledger, and fails the test when
// two records come from one client request.
func ledgerIDs(t *testing.T, db *pgx.Conn) map[string]bool {
	t.Helper()
	var rows, clients int
	err := db.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT regexp_replace(request_id, '\.[^.]*$', '')) FROM usage`).Scan(&rows, &clients)
	if err != nil {
		t.Fatal(err)
	}
	if rows != clients {
		t.Fatalf("the ledger holds %d records of %d requests: some request is counted twice", rows, clients)
	}
	r, err := db.Query(context.Background(), `SELECT request_id FROM usage`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]bool, len(ids))
	seen := make(map[string]string, len(ids))
	for _, id := range ids {
		if other, ok := seen[clientID(id)]; ok {
			t.Fatalf("request %s has two records: %s and %s", clientID(id), other, id)
		}
		seen[clientID(id)] = id
		out[id] = true
	}
	return out
}

// spooled returns the records of the spool file.
func spooled(t *testing.T, path string) []store.UsageRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []store.UsageRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var r store.UsageRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut short by the kill
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// kill -9 under load, with part of the records in the spool: after a
// restart on the same data directory, every request answered more than a
// second before the kill is in the ledger, no request is in it twice, and
// the spool's replay adds nothing twice.
func TestKillNineUnderLoad(t *testing.T) {
	base := pgtest.BaseDSN(t)
	if !strings.Contains(base, "://") {
		t.Fatal("LLMGW_TEST_POSTGRES_DSN must be a postgres:// URL for this test")
	}
	dsn := pgtest.InSchema(base, pgtest.NewSchema(t, base))
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "llmgw.yaml")
	yaml := fmt.Sprintf(`
server:
  secret: %q
  data_dir: %q
storage:
  driver: postgres
  dsn: %q
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`, secret, dataDir, dsn)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first := serve(t, cfg)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	stop := make(chan struct{})
	type outcome struct {
		sent int
		done []answered
	}
	results := make(chan outcome, 1)
	go func() {
		sent, done := load(first.addr, stop)
		results <- outcome{sent, done}
	}()
	time.Sleep(storeUp)
	// The database stops taking usage records: the writer spools them.
	if _, err := db.Exec(ctx, `ALTER TABLE usage RENAME TO usage_away`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(storeRefusing)
	killedAt := time.Now()
	first.kill()
	close(stop)
	res := <-results
	if _, err := db.Exec(ctx, `ALTER TABLE usage_away RENAME TO usage`); err != nil {
		t.Fatal(err)
	}
	if len(res.done) < 100 {
		t.Fatalf("only %d of %d requests answered under load:\n%s", len(res.done), res.sent, first.logs.String())
	}

	before := ledgerIDs(t, db)
	spool := filepath.Join(dataDir, spoolName)
	inSpool := spooled(t, spool)
	if len(inSpool) == 0 {
		t.Fatalf("nothing was spooled while the database refused records:\n%s", first.logs.String())
	}
	// A crash between a replay and the emptying of the spool leaves
	// records in it that the ledger already holds: some are added, read
	// back from the ledger.
	page, err := pgLedger(t, dsn).Scan(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), store.ListOptions{Limit: 20})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("records inserted before the kill: %d, %v", len(page.Items), err)
	}
	f, err := os.OpenFile(spool, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Items {
		b, _ := json.Marshal(r)
		if _, err := f.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	spoolOnly := map[string]bool{}
	for _, r := range inSpool {
		if !before[r.RequestID] {
			spoolOnly[r.RequestID] = true
		}
	}

	// The next process replays the spool once the store answers.
	second := serve(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := os.Stat(spool)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spool was not replayed:\n%s", second.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := ledgerIDs(t, db) // fails on any request counted twice

	for id := range before {
		if !after[id] {
			t.Errorf("record %s was in the ledger before the restart and is not after it", id)
		}
	}
	for id := range after {
		if !before[id] && !spoolOnly[id] {
			t.Errorf("record %s was added after the restart but was not in the spool", id)
		}
	}
	if want := len(before) + len(spoolOnly); len(after) != want {
		t.Errorf("%d records after the replay, want %d (%d before it, %d only in the spool)", len(after), want, len(before), len(spoolOnly))
	}
	stored := map[string]bool{}
	for id := range after {
		stored[clientID(id)] = true
	}
	missingOld, missingRecent := 0, 0
	for _, a := range res.done {
		if stored[a.id] {
			continue
		}
		if a.at.Before(killedAt.Add(-flushMargin)) {
			missingOld++
			if missingOld <= 5 {
				t.Errorf("request %s, answered %v before the kill, is not in the ledger", a.id, killedAt.Sub(a.at).Round(time.Millisecond))
			}
		} else {
			missingRecent++
		}
	}
	if missingOld > 0 {
		t.Errorf("%d requests answered more than %v before the kill are missing from the ledger", missingOld, flushMargin)
	}
	t.Logf("%d requests sent, %d answered; %d records in the ledger after kill -9 and restart (%d inserted before the kill, %d only in the spool, %d records of the spool already in the ledger); %d answered in the last %v before the kill are missing",
		res.sent, len(res.done), len(after), len(before), len(spoolOnly), len(inSpool)-len(spoolOnly)+len(page.Items), missingRecent, flushMargin)
}

// pgLedger opens the ledger of the schema of dsn, as another process would.
func pgLedger(t *testing.T, dsn string) store.Ledger {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.Ledger()
}
