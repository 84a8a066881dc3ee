// Package pgtest gives tests outside store/postgres a PostgreSQL database
// of their own: a fresh schema of the server named by
// LLMGW_TEST_POSTGRES_DSN, dropped when the test ends. Without that
// variable a test is skipped, except in CI (CI=true), where it fails.
package pgtest
