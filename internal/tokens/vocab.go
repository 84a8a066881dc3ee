package tokens

import (
	"hash/maphash"
	"math"
)

// vocab is a BPE table: each token's rank, found by its bytes. It reads
// an embedded file (gen/main.go: the number of tokens n, n+1 offsets, then
// every token's bytes in rank order, token r at bytes[off[r]:off[r+1]])
// in place, and builds one array: an open-addressing hash table of ranks.
// For o200k_base, 200,000 tokens: 2.2 MiB of file in the binary and 2 MiB
// of heap, where a Go map of the same tokens holds 6.7 MiB of heap
// besides the strings (and the map literal that builds it another 5 MiB
// of the binary).
type vocab struct {
	data  string // the embedded file
	n     uint32 // tokens
	base  uint32 // where the tokens' bytes start in data
	slots []uint32
	seed  maphash.Seed
}

// noRank marks a piece that is not a token.
const noRank = math.MaxUint32

func newVocab(data string) *vocab {
	if len(data) < 8 {
		panic("tokens: a corrupt BPE table")
	}
	v := &vocab{data: data, n: le32(data, 0), seed: maphash.MakeSeed()}
	v.base = 4 + 4*(v.n+1)
	if uint64(len(data)) < uint64(v.base) || uint64(v.base)+uint64(le32(data, 4+4*v.n)) != uint64(len(data)) {
		panic("tokens: a corrupt BPE table")
	}
	size := 1
	for size < 2*int(v.n) {
		size <<= 1
	}
	v.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for r := range v.n {
		for h := maphash.String(v.seed, v.token(r)) & mask; ; h = (h + 1) & mask {
			if v.slots[h] == 0 {
				v.slots[h] = r + 1
				break
			}
		}
	}
	return v
}

func le32(s string, i uint32) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// token returns the bytes of rank r.
func (v *vocab) token(r uint32) string {
	return v.data[v.base+le32(v.data, 4+4*r) : v.base+le32(v.data, 8+4*r)]
}

// rank returns the rank of piece, or noRank when it is not a token.
func (v *vocab) rank(piece string) uint32 {
	mask := uint64(len(v.slots) - 1)
	for h := maphash.String(v.seed, piece) & mask; ; h = (h + 1) & mask {
		s := v.slots[h]
		if s == 0 {
			return noRank
		}
		if v.token(s-1) == piece {
			return s - 1
		}
	}
}
