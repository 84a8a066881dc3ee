package tokens

import (
	_ "embed"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dlclark/regexp2/v2"
	// The split expressions' compiled form, registered with regexp2.
	_ "github.com/tiktoken-go/tokenizer/codec"
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
	name string
	// pattern splits text into pieces before the merges: tiktoken's, as
	// github.com/tiktoken-go/tokenizer spells it for regexp2, whose
	// compiled form (regexp2cg) that package registers.
	pattern string
	table   *string // the embedded BPE table (vocab.go)
	// perTool is the cookbook's func_init: the tokens that open one function
	// in the rendering of the tools.
	perTool int
	once    sync.Once
	vocab   *vocab
	split   *regexp2.Regexp
	cache   countCache
	// tokenized counts the texts given to the tokenizer (tests).
	tokenized atomic.Int64
}

var (
	//go:embed o200k_base.bpe
	o200kTable string
	//go:embed cl100k_base.bpe
	cl100kTable string

	o200k = &encoding{name: "o200k_base", table: &o200kTable, perTool: 7,
		pattern: `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`}
	cl100k = &encoding{name: "cl100k_base", table: &cl100kTable, perTool: 10,
		pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`}
)

// load builds the table's index and compiles the split expression, the
// first time. Both are safe for concurrent use: the index is read only,
// and the expression keeps its per-match state apart.
func (e *encoding) load() {
	e.once.Do(func() {
		e.vocab = newVocab(*e.table)
		// Both expressions are fixed and tested: this cannot fail short
		// of a broken build.
		e.split = regexp2.MustCompile(e.pattern, regexp2.None)
	})
}

// count returns the tokens of s, or the count cached of an earlier call.
func (e *encoding) count(s string) (int, error) {
	if n, ok := e.cache.get(s); ok {
		return n, nil
	}
	e.tokenized.Add(1)
	n, err := e.tokenize(s)
	if err != nil {
		return 0, err
	}
	e.cache.put(s, n)
	return n, nil
}

// tokenize counts the tokens of s: the split expression's pieces, each
// one token or the parts its merges leave.
func (e *encoding) tokenize(s string) (int, error) {
	e.load()
	n := 0
	m, err := e.split.FindStringMatch(s)
	for ; err == nil && m != nil; m, err = e.split.FindNextMatch(m) {
		n += e.vocab.pieceTokens(m.String())
	}
	return n, err
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
