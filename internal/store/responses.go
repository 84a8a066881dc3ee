package store

import (
	"bytes"
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Responses keeps the responses of the Responses API that were created with
// store true, each under its tenant: a response is found, continued, listed
// and deleted only by the tenant that created it, whichever of its keys
// asks. Each response expires (ExpiresAt), after which it is never
// returned; Purge removes the expired ones.
type Responses interface {
	// Put stores a response. A response with that ID already stored for
	// the tenant is ErrConflict; sizes over MaxStoredResponse, or fields
	// CheckResponse refuses, are ErrInvalid.
	Put(ctx context.Context, r StoredResponse) error
	// Get returns the tenant's response with this ID, unless it expired
	// by now (ErrNotFound).
	Get(ctx context.Context, tenantID, id string, now time.Time) (StoredResponse, error)
	// Chain returns the conversation that ends with the tenant's response
	// id, oldest first: that response, the one it continued, and so on
	// back, at most max of them (<= 0: MaxChain), stopping at a response
	// that continued none, or one that was deleted or expired. ErrNotFound
	// when id itself is not there.
	Chain(ctx context.Context, tenantID, id string, now time.Time, max int) ([]StoredResponse, error)
	// Delete removes the tenant's response with this ID (ErrNotFound when
	// there is none). Responses that continued it keep their own turns.
	Delete(ctx context.Context, tenantID, id string) error
	// Purge removes at most limit (<= 0: MaxLimit) responses expired by
	// now and returns how many it removed.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}

// StoredResponse is one stored response.
type StoredResponse struct {
	// ID is the response's id ("resp_..."), as its client was given it.
	ID string
	// TenantID owns the response; KeyID is the key that created it.
	TenantID, KeyID string
	// Model is the model name the client asked for.
	Model string
	// PreviousID is the response this one continued, "" when none.
	PreviousID string
	// CreatedAt is when it was stored; ExpiresAt when it stops being.
	CreatedAt, ExpiresAt time.Time
	// Input is the turn's input items, a JSON array, each with an id.
	Input []byte
	// Response is the response object as the client was sent it.
	Response []byte
}

const (
	// MaxStoredResponse bounds the bytes of one stored response's input
	// and response object together, whatever the configuration asks.
	MaxStoredResponse = 64 << 20
	// MaxChain bounds the responses a conversation is followed back.
	MaxChain = 1000
	// maxResponseText bounds IDs, tenant and key IDs and model names.
	maxResponseText = 256
)

// CheckResponse checks what a driver stores of r: IDs and model short,
// printable and without NUL; input a JSON array and response a JSON
// object, valid UTF-8, together at most MaxStoredResponse bytes; the
// expiry after the creation.
func CheckResponse(r *StoredResponse) error {
	for _, f := range []struct{ name, v string }{{"id", r.ID}, {"tenant", r.TenantID}, {"key", r.KeyID}, {"model", r.Model}, {"previous id", r.PreviousID}} {
		if len(f.v) > maxResponseText || !utf8.ValidString(f.v) || bytes.IndexByte([]byte(f.v), 0) >= 0 {
			return fmt.Errorf("response %s: %w", f.name, ErrInvalid)
		}
	}
	if r.ID == "" {
		return fmt.Errorf("response id is empty: %w", ErrInvalid)
	}
	if len(r.Input)+len(r.Response) > MaxStoredResponse {
		return fmt.Errorf("response of %d bytes is over %d: %w", len(r.Input)+len(r.Response), MaxStoredResponse, ErrInvalid)
	}
	if !jsonOpens(r.Input, '[') || !jsonOpens(r.Response, '{') || !utf8.Valid(r.Input) || !utf8.Valid(r.Response) ||
		bytes.IndexByte(r.Input, 0) >= 0 || bytes.IndexByte(r.Response, 0) >= 0 {
		return fmt.Errorf("response input or object is not JSON text: %w", ErrInvalid)
	}
	if r.CreatedAt.IsZero() || !r.ExpiresAt.After(r.CreatedAt) {
		return fmt.Errorf("response expiry is not after its creation: %w", ErrInvalid)
	}
	return nil
}

// jsonOpens reports whether b, white space trimmed, begins with open.
func jsonOpens(b []byte, open byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == open
}

// ChainLimit is max as Chain takes it.
func ChainLimit(max int) int {
	if max <= 0 || max > MaxChain {
		return MaxChain
	}
	return max
}
