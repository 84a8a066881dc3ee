package identity

import "time"

// negCache holds refused hashes with why, each for ttl at most, never
// more than max of them: a new one evicts the oldest.
type negCache struct {
	ttl  time.Duration
	max  int
	m    map[hash]negEntry
	ring []hash // insertion order; a slot is live when m's entry names it
	next int
}

type negEntry struct {
	reason  string
	expires time.Time
	slot    int
}

// newNegCache allocates nothing ahead: the map and the ring grow with the
// hashes refused (most processes refuse few), up to max.
func newNegCache(max int, ttl time.Duration) negCache {
	return negCache{ttl: ttl, max: max, m: make(map[hash]negEntry)}
}

func (c *negCache) get(h hash, now time.Time) (string, bool) {
	e, ok := c.m[h]
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.reason, true
}

func (c *negCache) add(h hash, reason string, now time.Time) {
	if e, ok := c.m[h]; ok {
		e.reason, e.expires = reason, now.Add(c.ttl)
		c.m[h] = e
		return
	}
	slot := c.next
	if slot == len(c.ring) {
		c.ring = append(c.ring, h) // growing: no slot to free yet
	} else {
		if old, ok := c.m[c.ring[slot]]; ok && old.slot == slot {
			delete(c.m, c.ring[slot])
		}
		c.ring[slot] = h
	}
	c.m[h] = negEntry{reason: reason, expires: now.Add(c.ttl), slot: slot}
	if c.next = slot + 1; c.next == c.max {
		c.next = 0
	}
}

func (c *negCache) drop(h hash) { delete(c.m, h) }

func (c *negCache) len() int { return len(c.m) }
