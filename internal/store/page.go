package store

import (
	"encoding/base64"
	"fmt"
)

// DefaultLimit and MaxLimit bound a page (and a batch of changes).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ListOptions asks for one page of a list.
type ListOptions struct {
	// Limit is the most items returned: <= 0 means DefaultLimit, more
	// than MaxLimit is cut to it.
	Limit int
	// Cursor is Page.Next of the previous page; "" starts at the beginning.
	Cursor string
}

// Page is one page of a list, in a stable order (by ID, which the store
// makes increase with creation time).
type Page[T any] struct {
	Items []T
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// Limit returns the number of items a page holds for the limit asked.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Cursor returns the opaque cursor that resumes a list after the item
// with this ID. It is opaque so that the order can change without
// breaking clients that kept one.
func Cursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

// After decodes a cursor into the ID the next page starts after ("" for
// the first page).
func After(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 || len(b) > maxCursorBytes || !Text(string(b)) {
		return "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return string(b), nil
}

// Paginate cuts items, read with a limit one above n, to n and computes
// the next cursor from the last item kept.
func Paginate[T any](items []T, n int, id func(T) string) Page[T] {
	if len(items) <= n {
		return Page[T]{Items: items}
	}
	items = items[:n]
	return Page[T]{Items: items, Next: Cursor(id(items[n-1]))}
}
