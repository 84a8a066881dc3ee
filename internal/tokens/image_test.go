package tokens

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// pngHeader returns, base64-encoded, the signature and header chunk of a
// PNG of the given size: all image.DecodeConfig reads.
func pngHeader(w, h uint32) string {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func imageRequest(img *llm.Image) *llm.ChatRequest {
	return &llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartImage, Image: img}}}}}
}

// The worked examples of OpenAI's vision guide ("Calculating costs"): a
// 1024 x 1024 image in high detail costs 765 tokens, 2048 x 4096 in high
// detail 1105, 4096 x 8192 in low detail 85.
func TestImageTokensOpenAIExamples(t *testing.T) {
	cases := []struct {
		name   string
		w, h   uint32
		detail string
		want   int
	}{
		{"1024x1024 high", 1024, 1024, "high", 765},
		{"2048x4096 high", 2048, 4096, "high", 1105},
		{"4096x8192 low", 4096, 8192, "low", 85},
	}
	frame, _ := Count(imageRequest(&llm.Image{Detail: "low", Data: pngHeader(1, 1)}), "openai", "gpt-4o")
	frame -= 85 // the message and reply framing around the image
	for _, tc := range cases {
		got, exact := Count(imageRequest(&llm.Image{MediaType: "image/png", Data: pngHeader(tc.w, tc.h), Detail: tc.detail}), "openai", "gpt-4o")
		if got-frame != tc.want || !exact {
			t.Errorf("%s: image counted %d, exact %v; OpenAI's guide says %d", tc.name, got-frame, exact, tc.want)
		}
	}
	// The same rule on a JPEG, read from its header.
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1024, 1024))
	img.Set(0, 0, color.White)
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	got, exact := Count(imageRequest(&llm.Image{MediaType: "image/jpeg", Data: base64.StdEncoding.EncodeToString(buf.Bytes())}), "openai", "gpt-4o")
	if got-frame != 765 || exact {
		t.Errorf("1024x1024 JPEG, detail absent: image counted %d, exact %v; want high detail's 765, not exact (the model may choose low)", got-frame, exact)
	}
}

// An image whose size cannot be read counts the most high detail costs,
// and the count is not exact.
func TestImageOfUnknownSize(t *testing.T) {
	frame, _ := Count(imageRequest(&llm.Image{Detail: "low", Data: pngHeader(1, 1)}), "openai", "gpt-4o")
	frame -= 85
	for name, img := range map[string]*llm.Image{
		"by URL":         {URL: "https://example.com/cat.png"},
		"not an image":   {MediaType: "image/png", Data: base64.StdEncoding.EncodeToString([]byte("hello"))},
		"not base64":     {MediaType: "image/png", Data: "%%%"},
		"zero width png": {MediaType: "image/png", Data: pngHeader(0, 10)},
	} {
		got, exact := Count(imageRequest(img), "openai", "gpt-4o")
		if got-frame != 85+8*170 || exact {
			t.Errorf("%s: image counted %d, exact %v; want %d, not exact", name, got-frame, exact, 85+8*170)
		}
	}
}

// gpt-4o-mini counts images at its own rates (2833 base, 5667 per tile).
func TestImageTokensGPT4oMini(t *testing.T) {
	frame, _ := Count(imageRequest(&llm.Image{Detail: "low", Data: pngHeader(1, 1)}), "openai", "gpt-4o-mini")
	frame -= 2833
	got, _ := Count(imageRequest(&llm.Image{Data: pngHeader(1024, 1024), Detail: "high"}), "openai", "gpt-4o-mini")
	if got-frame != 2833+4*5667 {
		t.Errorf("image counted %d, want %d", got-frame, 2833+4*5667)
	}
}

func TestEstimateImage(t *testing.T) {
	cases := map[string]struct {
		img  *llm.Image
		want int
	}{
		"unknown size":        {&llm.Image{URL: "https://example.com/a.png"}, estimateImageUnknown},
		"small: gemini's 258": {&llm.Image{Data: pngHeader(100, 100)}, 258},
		"1092x1092: anthropic's 1590, gemini 4 tiles 1032, openai 765": {&llm.Image{Data: pngHeader(1092, 1092)}, 1590},
		"huge header: gemini capped at 16 tiles":                       {&llm.Image{Data: pngHeader(20000, 20000)}, 258 * estimateGeminiTilesMax},
	}
	for name, tc := range cases {
		if got := estimateImage(tc.img); got != tc.want {
			t.Errorf("%s: estimateImage = %d, want %d", name, got, tc.want)
		}
	}
}
