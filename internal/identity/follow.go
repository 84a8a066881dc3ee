package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// follow applies the store's changes every PollInterval, and at once when
// a notification wakes it.
func (d *Directory) follow() {
	defer d.wg.Done()
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
		_ = d.Sync(d.ctx) // a failure is logged; the next tick retries
	}
}

// listen runs Options.Notify, again after a pause when it fails, and
// wakes the follower for each change number not applied yet.
func (d *Directory) listen() {
	defer d.wg.Done()
	const maxPause = 10 * time.Second
	pause := 100 * time.Millisecond
	for {
		start := time.Now()
		err := d.opts.Notify(d.ctx, func(seq int64) {
			if seq > d.seen.Load() {
				select {
				case d.wake <- struct{}{}:
				default: // a wake-up is already pending
				}
			}
		})
		if d.ctx.Err() != nil {
			return
		}
		if err != nil {
			d.storeFailed("listen for changes", err)
		}
		if time.Since(start) > time.Minute {
			pause = 100 * time.Millisecond
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// Sync applies the changes the store holds and the Directory has not
// applied yet. The follower calls it on its own; a writer calls it after
// a write so that this replica answers with what it wrote at once. An
// error means the store did not answer; what was applied stays applied.
func (d *Directory) Sync(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	keyChanged := false
	for {
		changes, _, err := d.opts.Store.Changes().Since(ctx, d.after, store.MaxLimit)
		if err != nil {
			d.storeFailed("read changes", err)
			return fmt.Errorf("%w: read changes: %w", ErrUnavailable, err)
		}
		for i := range changes {
			if err := d.apply(ctx, &changes[i]); err != nil {
				d.storeFailed("apply a change", err)
				return fmt.Errorf("%w: apply change %d: %w", ErrUnavailable, changes[i].Seq, err)
			}
			keyChanged = keyChanged || changes[i].Kind == store.KindKey
			d.after = changes[i].Seq
			d.seen.Store(d.after)
		}
		if len(changes) < store.MaxLimit {
			break
		}
	}
	if keyChanged || d.recheck {
		page, err := d.keys.List(ctx, store.KeyFilter{}, store.ListOptions{Limit: 1})
		d.recheck = err != nil
		if err != nil {
			d.storeFailed("count keys", err)
			return fmt.Errorf("%w: count keys: %w", ErrUnavailable, err)
		}
		d.hasKeys.Store(len(page.Items) > 0)
	}
	return nil
}

// apply applies one change: a key's hashes leave both caches and join the
// index; a tenant's new name and limits, or a team's new name, replace the
// old ones in the cached keys. d.syncMu is held.
func (d *Directory) apply(ctx context.Context, c *store.Change) error {
	switch c.Kind {
	case store.KindKey:
		d.mu.Lock()
		d.epoch++
		for _, h := range c.Hashes {
			d.indexAdd(h)
			if len(h) == len(hash{}) {
				d.dropLocked(hash(h))
			}
		}
		d.mu.Unlock()
	case store.KindTenant:
		t, found, err := d.tenant(ctx, c.ID)
		if err != nil {
			return err
		}
		d.rename(func(id *Identity) bool { return id.Key.TenantID == c.ID },
			func(id *Identity) { id.Tenant, id.TenantLimits, id.TenantBudget = t.name, t.limits, t.budget },
			func() {
				if found {
					d.tenants[c.ID] = t
				} else {
					delete(d.tenants, c.ID)
				}
			})
	case store.KindTeam:
		team, err := d.team(ctx, c.ID)
		if err != nil {
			return err
		}
		d.rename(func(id *Identity) bool { return id.Key.TeamID == c.ID },
			func(id *Identity) { id.Team, id.TeamBudget = team.name, team.budget },
			func() {
				if team.name == "" {
					delete(d.teams, c.ID)
				} else {
					d.teams[c.ID] = team
				}
			})
	}
	return nil
}

// tenant returns the current name and limits of a tenant; found is
// false when it is gone.
func (d *Directory) tenant(ctx context.Context, id string) (t tenantInfo, found bool, err error) {
	st, err := d.opts.Store.Tenants().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return tenantInfo{}, false, nil
	}
	if err != nil {
		return tenantInfo{}, false, err
	}
	return tenantInfo{name: st.Name, limits: st.Limits, budget: st.Budget}, true, nil
}

// team returns the current name and budget of a team, no name when it is
// gone. A change names the team by ID only: its tenant is found in the
// cache.
func (d *Directory) team(ctx context.Context, id string) (teamInfo, error) {
	d.mu.RLock()
	tenantID := ""
	for _, e := range d.pos {
		if e.id.Key.TeamID == id {
			tenantID = e.id.Key.TenantID
			break
		}
	}
	d.mu.RUnlock()
	if tenantID == "" {
		// No cached key is in the team: forgetting its name is enough.
		return teamInfo{}, nil
	}
	t, err := d.opts.Store.Teams().Get(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return teamInfo{}, nil
	}
	if err != nil {
		return teamInfo{}, err
	}
	return teamInfo{name: t.Name, budget: t.Budget}, nil
}

// rename replaces, with renamed copies, the cached identities that match,
// since identities already handed out are never changed; then it updates
// the cache of names.
func (d *Directory) rename(match func(*Identity) bool, set func(*Identity), names func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.epoch++
	names()
	for h, e := range d.pos {
		if !match(e.id) {
			continue
		}
		id := *e.id
		set(&id)
		p := *id.Principal
		p.Tenant, p.Team, p.TenantLimits = id.Tenant, id.Team, limitOf(id.TenantLimits)
		p.Budgets = budgetsOf(&id)
		id.Principal = &p
		ne := &entry{id: &id, until: e.until}
		ne.used.Store(e.used.Load())
		ne.dirty.Store(e.dirty.Load())
		d.pos[h] = ne
	}
}

// flusher writes last-used times every TouchInterval.
func (d *Directory) flusher() {
	defer d.wg.Done()
	t := time.NewTicker(d.opts.TouchInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
			_ = d.flush(d.ctx)
		}
	}
}

// flush writes every use recorded since the last flush, in one Touch. On
// failure the uses are kept for the next one.
func (d *Directory) flush(ctx context.Context) error {
	d.mu.Lock()
	uses := d.pending
	d.pending = make(map[string]int64)
	for _, e := range d.pos {
		if e.dirty.Swap(false) {
			id := e.id.Key.ID
			uses[id] = max(uses[id], e.used.Load())
		}
	}
	d.mu.Unlock()
	if len(uses) == 0 {
		return nil
	}
	batch := make([]store.Use, 0, len(uses))
	for id, at := range uses {
		batch = append(batch, store.Use{KeyID: id, At: time.Unix(0, at).UTC()})
	}
	err := d.keys.Touch(ctx, batch)
	if err != nil {
		d.storeFailed("record when keys were last used", err)
		d.mu.Lock()
		for id, at := range uses {
			if len(d.pending) < d.opts.MaxKeys {
				d.pending[id] = max(d.pending[id], at)
			}
		}
		d.mu.Unlock()
	}
	return err
}
