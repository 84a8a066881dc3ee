package tokens

import "sync"

// Counts are cached: the same texts come back request after request (a
// system prompt, the earlier turns of a conversation resent with each
// new one, a role name), and a lookup is a hash of the text where the
// tokenizer runs a backtracking expression and a map lookup per piece.
// Only what the tokenizer counted goes in: a text is looked up after it
// was found safe to tokenize, so an entry is exactly what Count would
// have counted.
const (
	// cacheMaxText is the longest text cached; longer ones are rare
	// enough again that their copy would mostly be memory held for
	// nothing.
	cacheMaxText = 16 << 10
	// cacheGenBytes bounds one generation of the cache: the text held
	// plus a fixed cost per entry. Two generations are kept.
	cacheGenBytes  = 2 << 20
	cacheEntryCost = 64
)

// countCache maps texts to their token counts, for one encoding. It
// keeps two generations: entries go into the current one; when it is
// full it becomes the previous one and the one before is dropped; a text
// found in the previous generation moves to the current. Texts used
// again stay; the memory held is at most twice cacheGenBytes.
type countCache struct {
	mu        sync.Mutex
	cur, prev map[string]int
	curBytes  int
}

func (c *countCache) get(s string) (int, bool) {
	if len(s) > cacheMaxText {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.cur[s]; ok {
		return n, true
	}
	n, ok := c.prev[s]
	if ok {
		delete(c.prev, s)
		c.putLocked(s, n)
	}
	return n, ok
}

// put adds s, copied, with its count n.
func (c *countCache) put(s string, n int) {
	if len(s) > cacheMaxText {
		return
	}
	s = string([]byte(s)) // s may point into a request's body
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(s, n)
}

func (c *countCache) putLocked(s string, n int) {
	if _, ok := c.cur[s]; ok {
		return
	}
	cost := len(s) + cacheEntryCost
	if c.cur == nil || c.curBytes+cost > cacheGenBytes {
		c.prev, c.cur, c.curBytes = c.cur, make(map[string]int), 0
	}
	c.cur[s] = n
	c.curBytes += cost
}
