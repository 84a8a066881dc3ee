package postgres_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/storetest"
)

// The schema stays compatible one version back: during a rolling upgrade
// the replicas of the previous version run on the schema the new version
// has migrated, and after a rollback the previous version runs on it
// alone. docs/upgrades.md says how this is kept; these tests check it.
//
// testdata/previous-statements.sql lists every statement the previous
// version's store issues (recorded from its test suite). Each must still
// prepare on the current schema: a migration that drops, renames or
// retypes what one of them uses fails here. A release records its own
// statements for the next one:
//
//	go test ./internal/store/postgres -run 'TestConformance|TestShared' -statements testdata/previous-statements.sql

var statementsOut = flag.String("statements", "", "write the statements the store issued in this run to `file`")

// issued records the statements of every store the tests open.
var issued = &recorder{seen: map[string]bool{}}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if *statementsOut != "" && code == 0 {
		if err := issued.write(*statementsOut); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// recorder is a pgx tracer that keeps the text of each statement that
// PostgreSQL can prepare (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES),
// spaces collapsed.
type recorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

var preparable = regexp.MustCompile(`^(?i)(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES)\b`)

func (r *recorder) add(sql string) {
	sql = strings.Join(strings.Fields(sql), " ")
	if !preparable.MatchString(sql) || strings.Contains(sql, "schema_migrations") {
		return // the migrator's own bookkeeping, which every version shares
	}
	r.mu.Lock()
	r.seen[sql] = true
	r.mu.Unlock()
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL)
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL)
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *recorder) write(path string) error {
	r.mu.Lock()
	all := make([]string, 0, len(r.seen))
	for s := range r.seen {
		all = append(all, s)
	}
	r.mu.Unlock()
	if len(all) == 0 {
		return fmt.Errorf("no statement recorded: run the store's suite (-run 'TestConformance|TestShared')")
	}
	slices.Sort(all)
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) == 0 {
		return fmt.Errorf("migrations: %v", err)
	}
	slices.Sort(files)
	head := fmt.Sprintf("-- The statements of the PostgreSQL store at schema %s, one per line,\n"+
		"-- recorded from its test suite with -statements (compat_test.go).\n", files[len(files)-1])
	return os.WriteFile(path, []byte(head+strings.Join(all, "\n")+"\n"), 0o644)
}

// The previous version's statements all prepare on the current schema.
func TestPreviousVersionStatements(t *testing.T) {
	stmts := readStatements(t, "testdata/previous-statements.sql")
	if len(stmts) < 50 {
		t.Fatalf("only %d statements in testdata/previous-statements.sql", len(stmts))
	}
	dsn := pgtest.FreshSchema(t)
	openDSN(t, dsn) // migrates to the current schema
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, s := range stmts {
		if _, err := conn.Prepare(t.Context(), "", s); err != nil {
			t.Errorf("the previous version's statement no longer prepares on the current schema: %v\n\t%s", err, s)
		}
	}
}

func readStatements(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "--") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every migration only adds to the schema, unless marked as a contract.
func TestMigrationsExpandOnly(t *testing.T) {
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	for _, f := range files {
		body, err := os.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range storetest.ExpandOnly(f, string(body)) {
			t.Error(p)
		}
	}
}

// A schema the next version has migrated (a migration this binary does
// not know, a table and a column it does not use) opens and serves: the
// previous version's side of a rolling upgrade or a rollback.
func TestOpensNewerSchema(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	openDSN(t, dsn).Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, q := range []string{
		`CREATE TABLE next_version_things (id text PRIMARY KEY)`,
		`ALTER TABLE keys ADD COLUMN next_version_owner text`,
		`ALTER TABLE tenants ADD COLUMN next_version_tier text NOT NULL DEFAULT 'standard'`,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, now())`,
	} {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	storetest.ServesKeys(t, openDSN(t, dsn))
}
