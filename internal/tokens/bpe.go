package tokens

// pieceTokens returns the tokens of one piece of the split: one when the
// piece is a token, else the parts byte-pair encoding merges it into.
// The merges are tiktoken's (and github.com/tiktoken-go/tokenizer's, which
// the tests compare this with): repeatedly, the leftmost adjacent pair
// with the lowest rank merges.
func (v *vocab) pieceTokens(piece string) int {
	if v.rank(piece) != noRank {
		return 1
	}
	if len(piece) < mergeHeapThreshold {
		return v.mergeScan(piece)
	}
	return v.mergeHeap(piece)
}

// mergeHeapThreshold is the piece length from which the merges are found
// with a heap (O(n log n)) rather than by a scan of the parts at each
// merge (O(n²), faster for short pieces).
const mergeHeapThreshold = 96

// part is a boundary between parts and the rank of the merge of the part
// it starts with the next.
type part struct {
	offset int
	rank   uint32
}

func (v *vocab) mergeScan(piece string) int {
	var buf [mergeHeapThreshold + 1]part
	parts := buf[:len(piece)+1]
	rankAt := func(i, skip int) uint32 {
		if i+skip+2 < len(parts) {
			return v.rank(piece[parts[i].offset:parts[i+skip+2].offset])
		}
		return noRank
	}
	for i := range parts {
		parts[i] = part{i, noRank}
	}
	for i := 0; i < len(parts)-2; i++ {
		parts[i].rank = rankAt(i, 0)
	}
	for len(parts) > 1 {
		minRank, minIndex := uint32(noRank), 0
		for i, p := range parts[:len(parts)-1] {
			if p.rank < minRank {
				minRank, minIndex = p.rank, i
			}
		}
		if minRank == noRank {
			break
		}
		parts[minIndex].rank = rankAt(minIndex, 1)
		if minIndex > 0 {
			parts[minIndex-1].rank = rankAt(minIndex-1, 1)
		}
		parts = append(parts[:minIndex+1], parts[minIndex+2:]...)
	}
	return len(parts) - 1
}

// mergeNode is a boundary in mergeHeap's doubly linked list; rank is that
// of the merge of its part with the next.
type mergeNode struct {
	prev, next int32
	rank       uint32
}

type mergeCandidate struct {
	rank   uint32
	offset int32
}

func (v *vocab) mergeHeap(piece string) int {
	n := int32(len(piece))
	nodes := make([]mergeNode, n+1)
	for i := range nodes {
		nodes[i] = mergeNode{prev: int32(i) - 1, next: int32(i) + 1, rank: noRank}
	}
	nodes[n].next = -1
	rankOf := func(i int32) uint32 {
		j := nodes[i].next
		if j < 0 {
			return noRank
		}
		k := nodes[j].next
		if k < 0 {
			return noRank
		}
		return v.rank(piece[i:k])
	}
	h := make(mergeHeap, 0, n)
	for i := int32(0); i+2 <= n; i++ {
		if r := rankOf(i); r != noRank {
			nodes[i].rank = r
			h = append(h, mergeCandidate{r, i})
		}
	}
	h.init()
	parts := int(n)
	for len(h) > 0 {
		top := h.pop()
		i := top.offset
		if nodes[i].rank != top.rank {
			continue // stale: the boundary merged or its rank changed
		}
		j := nodes[i].next
		k := nodes[j].next
		nodes[j].rank = noRank
		nodes[i].next = k
		if k >= 0 {
			nodes[k].prev = i
		}
		parts--
		for _, b := range [2]int32{i, nodes[i].prev} {
			if b < 0 {
				continue
			}
			nodes[b].rank = rankOf(b)
			if nodes[b].rank != noRank {
				h.push(mergeCandidate{nodes[b].rank, b})
			}
		}
	}
	return parts
}

// mergeHeap is a binary min-heap of candidates by rank, then offset, so
// that of equal ranks the leftmost merges first.
type mergeHeap []mergeCandidate

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].offset < h[b].offset
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(c mergeCandidate) {
	*h = append(*h, c)
	h.up(len(*h) - 1)
}

func (h *mergeHeap) pop() mergeCandidate {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
