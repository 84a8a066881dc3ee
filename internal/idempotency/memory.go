package idempotency

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// memory keeps leases and results in this process's memory: results
// expire ttl after they are kept, and the oldest go first when their
// total size would pass maxBytes. A lease never expires here, since its
// holder is a request of this same process, which always ends it.
type memory struct {
	mu       sync.Mutex
	now      func() time.Time
	ttl      time.Duration
	maxBytes int64
	used     int64
	m        map[ID]*memRecord
	results  list.List // of ID, oldest kept first
}

type memRecord struct {
	e       entry
	lease   string // the stored lease value, while no result is kept
	expires time.Time
	size    int64
	elem    *list.Element
}

func newMemory(ttl time.Duration, maxBytes int64, now func() time.Time) *memory {
	return &memory{now: now, ttl: ttl, maxBytes: maxBytes, m: make(map[ID]*memRecord)}
}

// live returns id's record, dropping it if it has expired; m.mu is held.
func (m *memory) live(id ID) *memRecord {
	r := m.m[id]
	if r != nil && r.e.res != nil && !m.now().Before(r.expires) {
		m.remove(id, r)
		return nil
	}
	return r
}

// remove forgets id's record r; m.mu is held.
func (m *memory) remove(id ID, r *memRecord) {
	if r.elem != nil {
		m.results.Remove(r.elem)
		m.used -= r.size
	}
	delete(m.m, id)
}

func (m *memory) claim(_ context.Context, id ID, lease []byte) (bool, entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.live(id); r != nil {
		return false, r.e, nil
	}
	e, _ := decode(lease)
	m.m[id] = &memRecord{e: e, lease: string(lease)}
	return true, entry{}, nil
}

func (m *memory) get(_ context.Context, id ID) (entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.live(id); r != nil {
		return r.e, true, nil
	}
	return entry{}, false, nil
}

func (m *memory) renew(context.Context, ID, []byte) error { return nil }

func (m *memory) release(_ context.Context, id ID, lease []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.m[id]; r != nil && r.e.res == nil && r.lease == string(lease) {
		delete(m.m, id)
	}
	return nil
}

// store keeps res in place of the lease, after dropping the expired
// results and, while the total would pass maxBytes, the oldest ones. A
// result larger than maxBytes is not kept.
func (m *memory) store(_ context.Context, id ID, lease []byte, res *Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.m[id]
	if r != nil && (r.e.res != nil || r.lease != string(lease)) {
		return nil // no longer this lease's
	}
	size := res.size()
	if size > m.maxBytes {
		delete(m.m, id)
		return nil
	}
	now := m.now()
	for f := m.results.Front(); f != nil && (m.used+size > m.maxBytes || !now.Before(m.m[f.Value.(ID)].expires)); f = m.results.Front() {
		old := f.Value.(ID)
		m.remove(old, m.m[old])
	}
	e, _ := decode(lease)
	e.owner, e.res = "", res
	nr := &memRecord{e: e, expires: now.Add(m.ttl), size: size}
	nr.elem = m.results.PushBack(id)
	m.used += size
	m.m[id] = nr
	return nil
}

// usage returns the bytes of the results kept and their number.
func (m *memory) usage() (int64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used, m.results.Len()
}
