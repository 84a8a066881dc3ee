package store

import (
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/observe"
)

// BenchmarkOpDone is what Instrument adds to a call besides reading the
// clock at its start: the observation and the error check.
func BenchmarkOpDone(b *testing.B) {
	reg := observe.NewRegistry()
	m := Instrument(nilStore{}, "sqlite", reg).(*measured)
	b.ReportAllocs()
	for b.Loop() {
		m.keys.getByHash.done(time.Now(), ErrNotFound)
	}
}

// nilStore is a Store with no parts, enough for Instrument to wrap.
type nilStore struct{ Store }

func (nilStore) Tenants() Tenants     { return nil }
func (nilStore) Teams() Teams         { return nil }
func (nilStore) Keys() Keys           { return nil }
func (nilStore) Changes() Changes     { return nil }
func (nilStore) Audit() Audit         { return nil }
func (nilStore) Ledger() Ledger       { return nil }
func (nilStore) Budgets() Budgets     { return nil }
func (nilStore) Alerts() Alerts       { return nil }
func (nilStore) Responses() Responses { return nil }
