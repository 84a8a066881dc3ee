package store

import "errors"

// The errors of every driver, wrapped with what was being done: test them
// with errors.Is.
var (
	// ErrNotFound: no such tenant, team or key (or the one it refers to
	// does not exist).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a name or hash already taken, a tenant or team that
	// still owns something, or an operation the record's state forbids.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: an argument the store refuses (an empty name, an unknown
	// role, a malformed cursor).
	ErrInvalid = errors.New("store: invalid argument")
)
