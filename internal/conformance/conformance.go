package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Protocols on either side of the gateway.
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
	// Mistral is an upstream protocol only: no client speaks it to the
	// gateway.
	Mistral = "mistral"
	// Ollama is an upstream protocol only: Ollama's native API.
	Ollama = "ollama"
	// Gemini is an upstream protocol only: the Gemini API.
	Gemini = "gemini"
	// Azure is an upstream only: Azure OpenAI, OpenAI's wire format
	// behind Azure's URLs and auth.
	Azure = "azure"
	// VLLM is an upstream only: vLLM's OpenAI-compatible server, OpenAI's
	// Chat Completions with parameters of its own.
	VLLM = "vllm"
	// Cohere is an upstream protocol only, Cohere's v2 chat.
	Cohere = "cohere"
	// Vertex is an upstream only: Gemini on Vertex AI, the Gemini API's
	// format behind Vertex AI's URLs and OAuth tokens.
	Vertex = "vertex"
	// VertexAnthropic is an upstream only: Claude on Vertex AI,
	// Anthropic's Messages API behind rawPredict and streamRawPredict.
	VertexAnthropic = "vertex-anthropic"
	// Bedrock is an upstream only: Amazon Bedrock's Converse and
	// ConverseStream, with SigV4 and the binary event stream.
	Bedrock = "bedrock"
	// BedrockAnthropic is an upstream only: Anthropic's Messages bodies
	// through Bedrock's InvokeModel and InvokeModelWithResponseStream.
	BedrockAnthropic = "bedrock-anthropic"
	// Responses is a client protocol only: OpenAI's Responses API (POST
	// /v1/responses), forwarded as it is to an OpenAI upstream.
	Responses = "responses"
)

// vocab returns the protocol whose vocabulary the checks use for a
// client's answers: a Responses answer is read into Chat Completions'
// terms (finish reasons, usage, error codes), which it shares.
func vocab(client string) string {
	if client == Responses {
		return OpenAI
	}
	return client
}

// Client returns the protocol whose vocabulary the case's answers are
// checked in (see vocab).
func (c *Case) Client() string { return vocab(c.Pair.Client) }

// nativeResponses reports whether the case forwards a Responses body to
// the OpenAI upstream as it is, so that the upstream answers in the
// Responses API's own format.
func (c *Case) nativeResponses() bool { return nativeResponsesPair(c.Pair) }

// nativeResponsesPair reports whether p forwards Responses bodies as they
// are (see Case.nativeResponses).
func nativeResponsesPair(p Pair) bool {
	return p.Client == Responses && p.Upstream == OpenAI && !p.Translated
}

// wire returns the wire protocol of upstream u: Azure speaks OpenAI's,
// Vertex AI Gemini's and, for Claude, Anthropic's; Bedrock's columns
// Anthropic's captures.
func wire(u string) string {
	switch u {
	case Azure, VLLM:
		return OpenAI
	case Vertex:
		return Gemini
	case VertexAnthropic, Bedrock, BedrockAnthropic:
		// Both Bedrock columns replay Anthropic's captures, re-encoded
		// (see bedrockFake).
		return Anthropic
	}
	return u
}

// family returns the upstream whose scenarios and expectations upstream u
// shares: Vertex AI's columns are the Gemini API's and Anthropic's behind
// other URLs and auth; every other upstream is its own.
func family(u string) string {
	switch u {
	case Vertex:
		return Gemini
	case VertexAnthropic:
		return Anthropic
	}
	return u
}

// Inbounds are the client protocols, and Upstreams the provider protocols,
// the suite crosses.
var (
	Inbounds  = []string{OpenAI, Anthropic, Responses}
	Upstreams = []string{OpenAI, Anthropic, Mistral, Ollama, Gemini, Azure, VLLM, Cohere,
		Vertex, VertexAnthropic, Bedrock, BedrockAnthropic}
)

// Pair is one combination of client and upstream protocol.
type Pair struct {
	Client, Upstream string
	// Translated forces a same-protocol pair through the canonical model
	// (Options.Translate) instead of forwarding the bytes.
	Translated bool
}

// String names the pair as "client->upstream", with "(translated)" after a
// forced translation.
func (p Pair) String() string {
	s := p.Client + "->" + p.Upstream
	if p.Translated {
		s += "(translated)"
	}
	return s
}

// Label names the pair in the compatibility table.
func (p Pair) Label() string {
	s := p.Client + " → " + p.Upstream
	if p.Translated {
		s += " (translated)"
	}
	return s
}

// Pairs returns every (inbound x upstream) pair, in table order, each
// same-protocol pair followed by its translated run.
func Pairs() []Pair {
	var out []Pair
	for _, c := range Inbounds {
		for _, u := range Upstreams {
			out = append(out, Pair{Client: c, Upstream: u})
			if vocab(c) == u {
				out = append(out, Pair{Client: c, Upstream: u, Translated: true})
			}
		}
	}
	return out
}

// Mode is unary or streamed.
type Mode string

// Modes.
const (
	Unary  Mode = "unary"
	Stream Mode = "stream"
)

// Case is one run of a scenario: a pair, a mode and a fresh gateway in front
// of fresh fakes.
type Case struct {
	Pair Pair
	Mode Mode
	H    *Harness
	// Model, when set, is the gateway model the request names instead of
	// ModelFor(Pair.Upstream).
	Model string

	// sent is the body of the last request sent, and chat the scenario's
	// Chat Completions body it was written from when the client speaks
	// the Responses API.
	sent []byte
	chat string
}

// Streamed reports whether the case streams.
func (c *Case) Streamed() bool { return c.Mode == Stream }

// Fake returns the fake serving the case's upstream protocol.
func (c *Case) Fake() Fake { return c.H.Fake(c.Pair.Upstream) }

// Up returns the wire protocol of the case's upstream, which picks the
// captures and the expectations: OpenAI's for Azure, Gemini's and
// Anthropic's for Vertex AI.
func (c *Case) Up() string { return wire(c.Pair.Upstream) }

// Scenario is one behaviour checked for every pair.
type Scenario struct {
	Name  string
	Modes []Mode
	// NA returns why the pair cannot express the scenario, or "" when it
	// can.
	NA func(p Pair, m Mode) string
	// Request is the client's body template per client protocol, without
	// model and stream, which the harness sets.
	Request map[string]string
	// Script returns the upstream answers to enqueue; nil leaves the fake's
	// default echo answer.
	Script func(t testing.TB, c *Case) []providertest.Response
	// Check verifies the client's result and what reached the upstream.
	Check func(t *testing.T, c *Case, r *Result)
	// Run, when set, replaces the send-and-check cycle (cancel scenarios).
	Run func(t *testing.T, c *Case)
	// StreamIdleTimeout, when set, replaces the harness's default.
	StreamIdleTimeout time.Duration
	// Model, when set, returns the gateway model to ask for the pair
	// instead of ModelFor(p.Upstream).
	Model func(p Pair) string
}

// Outcome is what one cell of the compatibility table says.
type Outcome struct {
	Status string // pass, fail, n/a
	Reason string // for n/a
}

// Table collects outcomes by scenario row and pair.
type Table struct {
	rows  []string
	cells map[string]map[Pair]Outcome
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{cells: make(map[string]map[Pair]Outcome)} }

// Set records the outcome of row for pair.
func (tb *Table) Set(row string, p Pair, o Outcome) {
	if _, ok := tb.cells[row]; !ok {
		tb.rows = append(tb.rows, row)
		tb.cells[row] = make(map[Pair]Outcome)
	}
	tb.cells[row][p] = o
}

// Markdown renders the table as the compatibility page.
func (tb *Table) Markdown() []byte {
	var b strings.Builder
	b.WriteString("# Protocol compatibility\n\n")
	b.WriteString("<!-- Generated by the conformance suite in internal/conformance;\n")
	b.WriteString("     do not edit. Regenerate: go test ./internal/conformance -run Conformance -update -->\n\n")
	b.WriteString("Every scenario runs through the gateway for each pair of client protocol (the API the\n")
	b.WriteString("client speaks: `openai` is `POST /v1/chat/completions`, `anthropic` is `POST /v1/messages`,\n")
	b.WriteString("`responses` is OpenAI's Responses API, `POST /v1/responses`, whose scenarios are the `openai`\n")
	b.WriteString("ones written as Responses requests, answers read in the same terms)\n")
	b.WriteString("and upstream protocol (the API of the provider serving the model; `mistral` is Mistral's chat\n")
	b.WriteString("completions, OpenAI's with differences; `ollama` is Ollama's native /api/chat, newline-delimited\n")
	b.WriteString("JSON; `gemini` is the Gemini API's generateContent and streamGenerateContent; `azure` is Azure\n")
	b.WriteString("OpenAI, OpenAI's format behind Azure's deployment URLs and api-key; `vllm` is vLLM's\n")
	b.WriteString("OpenAI-compatible server, Chat Completions with sampling parameters of its own; `cohere` is Cohere's v2\n")
	b.WriteString("chat, a protocol of its own; `vertex` is Gemini on Vertex AI and `vertex-anthropic` Claude on\n")
	b.WriteString("Vertex AI, the Gemini and Anthropic formats behind Vertex AI's URLs and OAuth tokens;\n")
	b.WriteString("`bedrock` is Amazon Bedrock's Converse and ConverseStream, and\n")
	b.WriteString("`bedrock-anthropic` Anthropic's Messages bodies through Bedrock's InvokeModel and\n")
	b.WriteString("InvokeModelWithResponseStream, both SigV4-signed, their streams in AWS's binary event stream,\n")
	b.WriteString("both replaying the Anthropic captures re-encoded in Bedrock's wire format; none of these is\n")
	b.WriteString("spoken by a client), against fake upstreams\n")
	b.WriteString("replaying captures written from the official API references. A same-protocol pair\n")
	b.WriteString("(`responses` → `openai` included: an OpenAI upstream serves the Responses API itself)\n")
	b.WriteString("forwards the client's bytes; its \"(translated)\" column runs the same scenarios with the call\n")
	b.WriteString("taken off that fast path, as a stage that inspects content does, so the request and the\n")
	b.WriteString("answer go through the canonical model both ways.\n\n")
	pairs := Pairs()
	b.WriteString("| scenario |")
	for _, p := range pairs {
		fmt.Fprintf(&b, " %s |", p.Label())
	}
	b.WriteString("\n| --- |")
	for range pairs {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	notes := map[string]int{}
	var noteList []string
	for _, row := range tb.rows {
		fmt.Fprintf(&b, "| %s |", row)
		for _, p := range pairs {
			o, ok := tb.cells[row][p]
			switch {
			case !ok:
				b.WriteString(" — |")
			case o.Status == "n/a":
				n, seen := notes[o.Reason]
				if !seen {
					noteList = append(noteList, o.Reason)
					n = len(noteList)
					notes[o.Reason] = n
				}
				fmt.Fprintf(&b, " n/a [%d] |", n)
			default:
				fmt.Fprintf(&b, " %s |", o.Status)
			}
		}
		b.WriteString("\n")
	}
	if len(noteList) > 0 {
		b.WriteString("\nNot applicable:\n\n")
		for i, r := range noteList {
			fmt.Fprintf(&b, "%d. %s\n", i+1, r)
		}
	}
	b.WriteString(errorsMarkdown())
	return []byte(b.String())
}

// Counts returns how many cells have each status, for a summary.
func (tb *Table) Counts() map[string]int {
	out := map[string]int{}
	for _, row := range tb.cells {
		for _, o := range row {
			out[o.Status]++
		}
	}
	return out
}
