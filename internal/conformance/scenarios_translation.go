package conformance

import (
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// contactSchema is a structured output schema inside both OpenAI's strict
// subset and Anthropic's, but for the pattern, which Anthropic does not take
// and its SDKs move into the description.
const contactSchema = `{"type":"object","properties":{"name":{"type":"string"},` +
	`"email":{"type":"string","format":"email"},"code":{"type":"string","pattern":"^[A-Z]{3}$"}},` +
	`"required":["name","email","code"],"additionalProperties":false}`

// contactSchemaAnthropic is contactSchema as Anthropic's SDKs send it.
const contactSchemaAnthropic = `{"type":"object","properties":{"name":{"type":"string"},` +
	`"email":{"type":"string","format":"email"},"code":{"type":"string","description":"{pattern: \"^[A-Z]{3}$\"}"}},` +
	`"additionalProperties":false,"required":["name","email","code"]}`

// contactJSON is the user's text, which the fakes echo as the answer.
const contactJSON = `{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"code\":\"LOV\"}`

// translationScenarios are the behaviours real client libraries rely on
// where the two protocols say the same thing differently: usage before the
// end of a stream, structured output, reasoning.
func translationScenarios() []Scenario {
	return []Scenario{
		{
			Name: "input tokens in message_start", Modes: []Mode{Stream},
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) != Anthropic {
					return naStartUsage
				}
				return ""
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{textCapture(t, c, 3)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				// The Anthropic capture states 25 input tokens at the
				// start; an OpenAI stream states its 12 only at the end,
				// so message_start carries an estimate and message_delta
				// the exact count.
				// Cohere's stream states its 5 billed input tokens at
				// the end too.
				final := map[string]int{Anthropic: 25, OpenAI: 12, Mistral: 12, Ollama: 26, Gemini: 5, Cohere: 5}[c.Up()]
				if c.Up() == Anthropic && !c.Converse() {
					expectEqual(t, "message_start input_tokens", r.StartInput, final)
				} else if r.StartInput <= 0 {
					t.Errorf("message_start input_tokens %d, want an estimate above 0", r.StartInput)
				}
				expectEqual(t, "final input_tokens", r.Usage.Input, final)
			},
		},
		{
			Name: "structured output (json_schema)", Modes: both, NA: always,
			Request: map[string]string{
				OpenAI: `{"response_format":{"type":"json_schema","json_schema":{"name":"contact","strict":true,"schema":` +
					contactSchema + `}},"messages":[{"role":"user","content":"` + contactJSON + `"}]}`,
				Anthropic: `{"max_tokens":256,"output_config":{"format":{"type":"json_schema","schema":` + contactSchemaAnthropic +
					`}},"messages":[{"role":"user","content":"` + contactJSON + `"}]}`,
			},
			Check: checkStructuredOutput,
		},
	}
}

// checkStructuredOutput checks that the schema reached the upstream in its
// protocol's form, and the JSON answer the client.
func checkStructuredOutput(t *testing.T, c *Case, r *Result) {
	expectOK(t, c, r)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Text), &got); err != nil || got["email"] != "ada@example.com" {
		t.Errorf("answer %q is not the contact JSON (%v)", r.Text, err)
	}
	up := gjson.ParseBytes(c.LastUpstream(t))
	if c.Up() == Anthropic {
		// Converse's outputConfig.textFormat reads back as output_config
		// (bedrockAsMessages); the schema is Claude's subset there too.
		f := up.Get("output_config.format")
		expectEqual(t, "upstream output_config.format.type", f.Get("type").String(), "json_schema")
		if !jsonEqual(f.Get("schema").Raw, contactSchemaAnthropic) {
			t.Errorf("upstream schema %s, want %s", f.Get("schema").Raw, contactSchemaAnthropic)
		}
		return
	}
	if c.Up() == Gemini {
		// Gemini takes JSON mode as responseMimeType, and the schema as
		// responseJsonSchema.
		want := map[string]string{OpenAI: contactSchema, Anthropic: contactSchemaAnthropic}[c.Client()]
		g := up.Get("generationConfig")
		expectEqual(t, "upstream responseMimeType", g.Get("responseMimeType").String(), "application/json")
		if !jsonEqual(g.Get("responseJsonSchema").Raw, want) {
			t.Errorf("upstream responseJsonSchema %s, want %s", g.Get("responseJsonSchema").Raw, want)
		}
		return
	}
	if c.Up() == Ollama {
		// Ollama takes the schema itself as format.
		want := map[string]string{OpenAI: contactSchema, Anthropic: contactSchemaAnthropic}[c.Client()]
		if !jsonEqual(up.Get("format").Raw, want) {
			t.Errorf("upstream format %s, want %s", up.Get("format").Raw, want)
		}
		return
	}
	rf := up.Get("response_format")
	want := map[string]string{OpenAI: contactSchema, Anthropic: contactSchemaAnthropic}[c.Client()]
	if c.Up() == Cohere {
		// Cohere's is a json_object with the bare schema: no name, no
		// strict.
		expectEqual(t, "upstream response_format.type", rf.Get("type").String(), "json_object")
		if !jsonEqual(rf.Get("json_schema").Raw, want) {
			t.Errorf("upstream schema %s, want %s", rf.Get("json_schema").Raw, want)
		}
		return
	}
	expectEqual(t, "upstream response_format.type", rf.Get("type").String(), "json_schema")
	if !jsonEqual(rf.Get("json_schema.schema").Raw, want) {
		t.Errorf("upstream schema %s, want %s", rf.Get("json_schema.schema").Raw, want)
	}
	if rf.Get("json_schema.name").String() == "" || rf.Get("json_schema.strict").Type != gjson.True {
		t.Errorf("upstream json_schema without a name or not strict: %s", rf.Raw)
	}
}
