package openai

import (
	"encoding/json"
	"slices"

	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// DefaultSchemaName is the json_schema name sent for a structured output
// that came without one (Anthropic's output_config.format has no name, and
// OpenAI requires it).
const DefaultSchemaName = "response"

// Limits of OpenAI's strict structured outputs.
const (
	strictMaxDepth      = 10
	strictMaxProperties = 5000
)

// strictUnsupported are keywords OpenAI's strict mode refuses.
var strictUnsupported = []string{"allOf", "oneOf", "not", "if", "then", "else",
	"dependentRequired", "dependentSchemas", "patternProperties", "unevaluatedProperties"}

// StrictSchema reports whether OpenAI accepts schema with strict true: the
// root is an object; every object has additionalProperties false and lists
// every property in required; no keyword of strictUnsupported appears; at
// most 10 levels of nesting and 5000 properties. OpenAI answers 400 to a
// strict schema outside that subset, so a schema of another protocol that
// asked for strictness is sent with strict false when it is not inside it
// (Anthropic allows optional properties, for one).
func StrictSchema(schema json.RawMessage) bool {
	if len(schema) == 0 || schema[0] != '{' {
		return false
	}
	obj := jsonwire.SplitObject(schema)
	if t, _ := jsonwire.Unquote(obj.Get("type")); t != "object" {
		return false
	}
	props := 0
	return strictNode(schema, 1, &props)
}

func strictNode(raw json.RawMessage, depth int, props *int) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return len(raw) > 0 && raw[0] != '[' // true, false: no constraint to break
	}
	obj := jsonwire.SplitObject(raw)
	for _, k := range strictUnsupported {
		if obj.Get(k) != nil {
			return false
		}
	}
	if p := obj.Get("properties"); p != nil || isObjectType(obj.Get("type")) {
		if depth > strictMaxDepth || string(obj.Get("additionalProperties")) != "false" {
			return false
		}
		if !strictProperties(p, obj.Get("required"), depth, props) {
			return false
		}
	}
	for _, k := range [...]string{"items", "additionalItems", "contains"} {
		if v := obj.Get(k); v != nil && !strictNode(v, depth+1, props) {
			return false
		}
	}
	for _, k := range [...]string{"anyOf", "prefixItems"} {
		if v := obj.Get(k); len(v) > 0 && v[0] == '[' {
			for _, e := range jsonwire.SplitArray(v) {
				if !strictNode(e, depth+1, props) {
					return false
				}
			}
		}
	}
	for _, k := range [...]string{"$defs", "definitions"} {
		if v := obj.Get(k); len(v) > 0 && v[0] == '{' {
			for _, m := range jsonwire.SplitObject(v) {
				if !strictNode(m.Val, depth, props) {
					return false
				}
			}
		}
	}
	return true
}

// strictProperties checks an object's properties: each required, each a
// strict schema.
func strictProperties(p, required json.RawMessage, depth int, props *int) bool {
	var req []string
	if len(required) > 0 && required[0] == '[' {
		for _, e := range jsonwire.SplitArray(required) {
			if s, ok := jsonwire.Unquote(e); ok {
				req = append(req, s)
			}
		}
	}
	if len(p) == 0 || p[0] != '{' {
		return jsonwire.IsNull(p)
	}
	for _, m := range jsonwire.SplitObject(p) {
		*props++
		if *props > strictMaxProperties || !slices.Contains(req, string(m.Key)) || !strictNode(m.Val, depth+1, props) {
			return false
		}
	}
	return true
}

func isObjectType(raw json.RawMessage) bool {
	if s, ok := jsonwire.Unquote(raw); ok {
		return s == "object"
	}
	if len(raw) > 0 && raw[0] == '[' {
		for _, e := range jsonwire.SplitArray(raw) {
			if s, _ := jsonwire.Unquote(e); s == "object" {
				return true
			}
		}
	}
	return false
}
