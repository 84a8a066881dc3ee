// Package pgtest gives tests an isolated PostgreSQL schema in the
// database LLMGW_TEST_POSTGRES_DSN names. Without that variable its tests
// are skipped, except in CI (CI=true), where a missing database is a
// failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BaseDSN returns LLMGW_TEST_POSTGRES_DSN. Without it the test is
// skipped, except in CI (CI=true), where a missing service is a failure.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("LLMGW_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_POSTGRES_DSN is not set; CI must provide PostgreSQL")
		}
		t.Skip("LLMGW_TEST_POSTGRES_DSN is not set: set it to a PostgreSQL database to run these tests " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return dsn
}

// FreshSchema creates an empty schema, dropped when the test ends, and
// returns the DSN whose connections use it (search_path).
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	return InSchema(base, NewSchema(t, base))
}

// NewSchema creates an empty schema on the server of base, dropped when
// the test ends, and returns its name.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "llmgw_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// InSchema returns dsn with its search_path set to schema.
func InSchema(dsn, schema string) string { return WithParam(dsn, "search_path", schema) }

// WithParam returns dsn with the parameter k=v added, in the DSN's own
// syntax (URL or key=value).
func WithParam(dsn, k, v string) string {
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + k + "=" + v
	}
	return dsn + " " + k + "=" + v
}
