package identity

// NegativeLen returns how many refusals d caches.
func NegativeLen(d *Directory) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.neg.len()
}
