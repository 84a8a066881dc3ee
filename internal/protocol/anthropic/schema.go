package anthropic

import (
	"encoding/json"
	"errors"

	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// maxSchemaDepth bounds the nesting OutputSchema follows; decoded request
// bodies are bounded more tightly already, so only a hand-built request
// reaches it.
const maxSchemaDepth = 128

var errSchemaDepth = errors.New("anthropic: JSON schema nested too deeply")

// outputStringFormats are the string formats Anthropic's structured output
// accepts, as the official SDKs list them.
var outputStringFormats = map[string]bool{
	"date-time": true, "time": true, "date": true, "duration": true, "email": true,
	"hostname": true, "uri": true, "ipv4": true, "ipv6": true, "uuid": true,
}

// OutputSchema rewrites a JSON schema into the subset Anthropic's structured
// output (output_config.format and strict tools) accepts, the way the
// official SDKs do before sending one (transformJSONSchema of the
// TypeScript SDK, transform_schema of the Python one), so that a schema
// written for OpenAI is not refused: $ref stands alone; $defs (and draft-07
// definitions), anyOf (oneOf becomes anyOf), allOf, items and properties are
// rewritten in turn; type, description, title, const, enum and required are
// kept; every object gets additionalProperties false; a string keeps a
// supported format and an array minItems 0 or 1. Every other keyword
// (minimum, pattern, maxLength, minItems above 1, ...) is left out of the
// schema and appended to its description as "{keyword: value, ...}", so the
// model still sees it. Key order is kept: it is the order the model writes
// the properties in.
func OutputSchema(schema json.RawMessage) (json.RawMessage, error) {
	return appendOutputSchema(make([]byte, 0, len(schema)+64), schema, 0)
}

func appendOutputSchema(b []byte, raw json.RawMessage, depth int) ([]byte, error) {
	if depth > maxSchemaDepth {
		return b, errSchemaDepth
	}
	if len(raw) == 0 || raw[0] != '{' {
		return jsonwire.AppendRaw(b, raw) // a boolean schema
	}
	obj := jsonwire.SplitObject(raw)
	b = append(b, '{')
	if ref := obj.Get("$ref"); ref != nil {
		b, err := jsonwire.AppendRawField(b, "$ref", ref)
		return append(b, '}'), err
	}
	w := schemaWriter{b: b, obj: obj, used: map[string]bool{"$ref": true}, depth: depth}
	for _, k := range [...]string{"$defs", "definitions"} {
		w.schemaMap(k)
	}
	switch {
	case jsonwire.Kind(obj.Get("anyOf")) == "an array":
		w.schemaList("anyOf", "anyOf")
	case jsonwire.Kind(obj.Get("oneOf")) == "an array":
		w.schemaList("oneOf", "anyOf")
	case jsonwire.Kind(obj.Get("allOf")) == "an array":
		w.schemaList("allOf", "allOf")
	default:
		w.keep("type")
	}
	w.use("type", "anyOf", "oneOf", "allOf")
	desc, hasDesc := jsonwire.Unquote(obj.Get("description"))
	if hasDesc {
		w.use("description")
	}
	w.keep("title")
	w.keep("const")
	w.keep("enum")
	types := schemaTypes(obj.Get("type"))
	if types["object"] {
		w.schemaMap("properties")
		w.use("additionalProperties")
		w.b = append(jsonwire.AppendKey(w.b, "additionalProperties"), "false"...)
		w.keep("required")
	}
	if f, ok := jsonwire.Unquote(obj.Get("format")); ok && types["string"] && outputStringFormats[f] {
		w.keep("format")
	}
	if types["array"] {
		w.schema("items")
		if m := string(obj.Get("minItems")); m == "0" || m == "1" {
			w.keep("minItems")
		}
	}
	if w.err != nil {
		return w.b, w.err
	}
	return append(w.description(desc, hasDesc), '}'), nil
}

// schemaTypes returns the type names of a type keyword, a string or an
// array of strings.
func schemaTypes(raw json.RawMessage) map[string]bool {
	out := map[string]bool{}
	if s, ok := jsonwire.Unquote(raw); ok {
		out[s] = true
		return out
	}
	if len(raw) > 0 && raw[0] == '[' {
		for _, e := range jsonwire.SplitArray(raw) {
			if s, ok := jsonwire.Unquote(e); ok {
				out[s] = true
			}
		}
	}
	return out
}

// schemaWriter writes the kept keywords of one schema object and remembers
// which it used; the others go to the description.
type schemaWriter struct {
	b     []byte
	obj   jsonwire.Object
	used  map[string]bool
	depth int
	err   error
}

func (w *schemaWriter) use(keys ...string) {
	for _, k := range keys {
		w.used[k] = true
	}
}

// keep writes keyword k as it is, when present.
func (w *schemaWriter) keep(k string) {
	v := w.obj.Get(k)
	if v == nil || w.err != nil {
		return
	}
	w.use(k)
	w.b, w.err = jsonwire.AppendRawField(w.b, k, v)
}

// schema writes keyword k, a schema, rewritten.
func (w *schemaWriter) schema(k string) {
	v := w.obj.Get(k)
	if v == nil || w.err != nil {
		return
	}
	w.use(k)
	w.b, w.err = appendOutputSchema(jsonwire.AppendKey(w.b, k), v, w.depth+1)
}

// schemaList writes keyword k, an array of schemas, rewritten, as key as.
func (w *schemaWriter) schemaList(k, as string) {
	v := w.obj.Get(k)
	if w.err != nil {
		return
	}
	w.use(k)
	w.b = append(jsonwire.AppendKey(w.b, as), '[')
	for i, e := range jsonwire.SplitArray(v) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		if w.b, w.err = appendOutputSchema(w.b, e, w.depth+1); w.err != nil {
			return
		}
	}
	w.b = append(w.b, ']')
}

// schemaMap writes keyword k, an object of named schemas ($defs,
// properties), each rewritten; an absent properties is written empty, as
// Anthropic wants it on an object.
func (w *schemaWriter) schemaMap(k string) {
	v := w.obj.Get(k)
	if w.err != nil || (v == nil && k != "properties") {
		return
	}
	w.use(k)
	w.b = append(jsonwire.AppendKey(w.b, k), '{')
	if len(v) > 0 && v[0] == '{' {
		for _, m := range jsonwire.SplitObject(v) {
			// Names are escaped: AppendKey writes its key as it is.
			w.b = append(jsonwire.AppendString(jsonwire.AppendComma(w.b), string(m.Key)), ':')
			if w.b, w.err = appendOutputSchema(w.b, m.Val, w.depth+1); w.err != nil {
				return
			}
		}
	}
	w.b = append(w.b, '}')
}

// description writes the description followed by the keywords left out,
// "{keyword: value, ...}", in their order.
func (w *schemaWriter) description(desc string, has bool) []byte {
	var rest []byte
	for _, m := range w.obj {
		if w.used[string(m.Key)] {
			continue
		}
		if len(rest) > 0 {
			rest = append(rest, ", "...)
		}
		rest = append(append(rest, m.Key...), ": "...)
		rest, _ = jsonwire.AppendRaw(rest, m.Val)
	}
	if len(rest) > 0 {
		if has && desc != "" {
			desc += "\n\n"
		}
		desc += "{" + string(rest) + "}"
		has = true
	}
	if !has {
		return w.b
	}
	return jsonwire.AppendStringField(w.b, "description", desc)
}
