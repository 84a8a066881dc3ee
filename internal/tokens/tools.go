package tokens

import (
	"encoding/json"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
)

// The cookbook's constants for the rendering of function tools ("Counting
// tokens for chat completions with tool calls"), the same for the cl100k and
// o200k models it checked against the API, apart from the per-function
// opening (encoding.perTool).
const (
	toolsEnd     = 12 // func_end, once when there are tools
	propsStart   = 3  // prop_init, once per function with properties
	propStart    = 3  // prop_key, per property
	enumStart    = -3 // enum_init, per property with an enum
	enumItemCost = 3  // enum_item, per enum value
)

// tools adds the function tools by the cookbook's rule: per function its
// opening, "name:description" (one final period dropped), and per property
// "name:type:description" and its enum values. Schema keywords the rule
// does not cover (nested objects, items, anyOf, formats, defaults, a type
// list) are counted as their JSON text and make the count inexact.
func (c *counter) tools(tools []llm.Tool) {
	if len(tools) == 0 {
		return
	}
	for i := range tools {
		t := &tools[i]
		if t.Type != "" && t.Type != "function" {
			c.exact = false
			c.text(string(t.Raw))
			continue
		}
		c.n += c.enc.perTool
		c.text(t.Name + ":" + strings.TrimSuffix(t.Description, "."))
		c.parameters(t.Parameters)
	}
	c.n += toolsEnd
}

func (c *counter) parameters(raw json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var schema map[string]json.RawMessage
	if err := json.Unmarshal(raw, &schema); err != nil {
		c.exact = false
		c.text(string(raw))
		return
	}
	for key, v := range schema {
		switch key {
		case "properties":
			c.properties(v)
		case "required":
			// Not rendered separately by the cookbook's rule, which
			// matches the API's count with it present.
		case "type":
			if s, ok := jsonString(v); !ok || s != "object" {
				c.exact = false
				c.text(string(v))
			}
		default:
			c.exact = false
			c.text(key)
			c.text(string(v))
		}
	}
}

func (c *counter) properties(raw json.RawMessage) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		c.exact = false
		c.text(string(raw))
		return
	}
	if len(props) == 0 {
		return
	}
	c.n += propsStart
	for name, v := range props {
		c.n += propStart
		c.property(name, v)
	}
}

func (c *counter) property(name string, raw json.RawMessage) {
	var prop map[string]json.RawMessage
	if err := json.Unmarshal(raw, &prop); err != nil {
		c.exact = false
		c.text(name)
		c.text(string(raw))
		return
	}
	var typ, desc string
	for key, v := range prop {
		switch key {
		case "type":
			s, ok := jsonString(v)
			if !ok {
				c.exact = false
				s = string(v)
			}
			typ = s
		case "description":
			s, ok := jsonString(v)
			if !ok {
				c.exact = false
				s = string(v)
			}
			desc = s
		case "enum":
			c.enum(v)
		default:
			c.exact = false
			c.text(key)
			c.text(string(v))
		}
	}
	c.text(name + ":" + typ + ":" + strings.TrimSuffix(desc, "."))
}

func (c *counter) enum(raw json.RawMessage) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		c.exact = false
		c.text(string(raw))
		return
	}
	c.n += enumStart
	for _, it := range items {
		c.n += enumItemCost
		s, ok := jsonString(it)
		if !ok {
			c.exact = false
			s = string(it)
		}
		c.text(s)
	}
}

// jsonString returns the value of raw when it is a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
