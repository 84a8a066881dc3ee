package tokens

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tiktoken-go/tokenizer"
)

// Provider types, as config.Provider.Type spells them, whose upstream may
// run an OpenAI model.
const (
	typeOpenAI           = "openai"
	typeAzureOpenAI      = "azure_openai"
	typeVLLM             = "vllm"
	typeOpenAICompatible = "openai_compatible"
)

// encoding is one of OpenAI's BPE vocabularies, loaded on first use.
type encoding struct {
	name tokenizer.Encoding
	// perTool is the cookbook's func_init: the tokens that open one function
	// in the rendering of the tools.
	perTool int
	once    sync.Once
	codec   tokenizer.Codec
	cache   countCache
	// tokenized counts the texts given to the tokenizer (tests).
	tokenized atomic.Int64
}

// count returns the tokens of s with the tokenizer, or from the cache of
// its earlier counts.
func (e *encoding) count(s string) (int, error) {
	if n, ok := e.cache.get(s); ok {
		return n, nil
	}
	e.tokenized.Add(1)
	n, err := e.get().Count(s)
	if err != nil {
		return 0, err
	}
	e.cache.put(s, n)
	return n, nil
}

var (
	o200k  = &encoding{name: tokenizer.O200kBase, perTool: 7}
	cl100k = &encoding{name: tokenizer.Cl100kBase, perTool: 10}
)

// get returns the codec, building it (the vocabulary map and the split
// expression) the first time. The codec is safe for concurrent use: Count
// reads the vocabulary and the expression keeps its per-match state apart.
func (e *encoding) get() tokenizer.Codec {
	e.once.Do(func() {
		c, err := tokenizer.Get(e.name)
		if err != nil {
			// Both names are compiled into the library: this cannot fail
			// short of a broken build.
			panic("tokens: " + err.Error())
		}
		e.codec = c
	})
	return e.codec
}

// model is what Count knows of an upstream model.
type model struct {
	enc *encoding
	// harmony marks gpt-oss, whose chat template adds a system preamble the
	// cookbook framing does not describe.
	harmony bool
	// imageBase and imageTile are the tokens of an image: the base and the
	// price of each 512-pixel tile in high detail.
	imageBase, imageTile int
}

// lookup returns how to count for model id on an upstream of providerType,
// and false when the model is not an OpenAI model served by an
// OpenAI-speaking upstream, for which only the estimate applies.
func lookup(providerType, id string) (model, bool) {
	switch providerType {
	case typeOpenAI, typeAzureOpenAI, typeVLLM, typeOpenAICompatible:
	default:
		return model{}, false
	}
	id = strings.ToLower(strings.TrimSpace(id))
	id = strings.TrimPrefix(id, "openai/")
	if rest, ok := strings.CutPrefix(id, "ft:"); ok {
		// ft:<base>:<org>:<suffix>:<id> counts as its base model.
		id, _, _ = strings.Cut(rest, ":")
	}
	m := model{imageBase: 85, imageTile: 170}
	switch {
	case strings.HasPrefix(id, "gpt-4o-mini"):
		// OpenAI bills gpt-4o-mini images as many more tokens at a lower
		// price per token.
		m.enc, m.imageBase, m.imageTile = o200k, 2833, 5667
	case hasAnyPrefix(id, "gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "codex-mini"),
		isOSeries(id):
		m.enc = o200k
	case strings.HasPrefix(id, "gpt-oss"):
		m.enc, m.harmony = o200k, true
	case hasAnyPrefix(id, "gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002",
		"davinci-002", "babbage-002"):
		m.enc = cl100k
	default:
		return model{}, false
	}
	return m, true
}

// isOSeries reports whether id is one of OpenAI's reasoning models: o1,
// o3-mini, o4-mini-2025-04-16...
func isOSeries(id string) bool {
	if len(id) < 2 || id[0] != 'o' || id[1] < '1' || id[1] > '9' {
		return false
	}
	return len(id) == 2 || id[2] == '-'
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
