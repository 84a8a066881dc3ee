// Command gen writes the BPE tables the tokens package embeds: for each
// encoding, the number of tokens n (uint32, little-endian), n+1 offsets
// (uint32) into the bytes that follow, then every token's bytes in rank
// order: token r is bytes[off[r]:off[r+1]]. They are taken from github.com/tiktoken-go/tokenizer, whose
// Go map literals hold the same tables (OpenAI's o200k_base and
// cl100k_base); the package's tests check every token of the file against
// the library. Run from internal/tokens: go run ./gen
package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/tiktoken-go/tokenizer"
)

func main() {
	for _, e := range []struct {
		enc  tokenizer.Encoding
		file string
	}{{tokenizer.O200kBase, "o200k_base.bpe"}, {tokenizer.Cl100kBase, "cl100k_base.bpe"}} {
		c, err := tokenizer.Get(e.enc)
		if err != nil {
			fail(err)
		}
		var toks []byte
		offs := []uint32{0}
		for rank := uint(0); ; rank++ {
			s, err := c.Decode([]uint{rank})
			if err != nil {
				// Ranks are dense up to the last ordinary token; the
				// special tokens after it are not in the table.
				break
			}
			toks = append(toks, s...)
			offs = append(offs, uint32(len(toks)))
		}
		out := binary.LittleEndian.AppendUint32(nil, uint32(len(offs)-1))
		for _, o := range offs {
			out = binary.LittleEndian.AppendUint32(out, o)
		}
		out = append(out, toks...)
		if err := os.WriteFile(e.file, out, 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
