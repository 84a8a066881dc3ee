package tokens

import (
	"encoding/base64"
	"image"
	_ "image/gif"  // image.DecodeConfig learns GIF
	_ "image/jpeg" // and JPEG
	_ "image/png"  // and PNG
	"math"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	_ "golang.org/x/image/webp" // and WebP
)

// highTilesMax is the most 512-pixel tiles an image can cost in high
// detail: after the scaling, one side is at most 768 and the other 2048.
const highTilesMax = 2 * 4

// imageTokens returns the tokens of an image by OpenAI's documented rule:
// in low detail, base; otherwise the image is scaled to fit in 2048x2048,
// then down so that its shortest side is at most 768, and costs base plus
// tile per 512-pixel tile. auto and an absent detail count as high, the
// upper bound, and are not exact: the model may choose low. When the size
// could not be read (an image by URL, or data that is not PNG, JPEG, GIF or
// WebP), the image counts the most high detail can cost, not exact either.
func imageTokens(img *llm.Image, base, tile int) (n int, exact bool) {
	if img == nil {
		return 0, false
	}
	if strings.EqualFold(img.Detail, "low") {
		return base, true
	}
	exact = strings.EqualFold(img.Detail, "high")
	w, h, ok := imageSize(img)
	if !ok {
		return base + highTilesMax*tile, false
	}
	return base + highTiles(w, h)*tile, exact
}

// highTiles returns the 512-pixel tiles of a w x h image in high detail.
func highTiles(w, h int) int {
	fw, fh := float64(w), float64(h)
	if longest := math.Max(fw, fh); longest > 2048 {
		fw, fh = fw*2048/longest, fh*2048/longest
	}
	if shortest := math.Min(fw, fh); shortest > 768 {
		fw, fh = fw*768/shortest, fh*768/shortest
	}
	tw, th := int(math.Ceil(fw/512)), int(math.Ceil(fh/512))
	return max(tw, 1) * max(th, 1)
}

// imageSize reads the dimensions of an inline image from its header, which
// costs the decoding of a few bytes of the base64 data, not of the image.
func imageSize(img *llm.Image) (w, h int, ok bool) {
	if img.Data == "" {
		return 0, 0, false
	}
	enc := base64.StdEncoding
	if len(img.Data)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	cfg, _, err := image.DecodeConfig(base64.NewDecoder(enc, strings.NewReader(img.Data)))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}
