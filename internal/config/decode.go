package config

import (
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// decoder decodes a YAML node tree into the config types strictly, recording
// every problem with its path instead of stopping at the first.
type decoder struct {
	problems *problems
	// steps counts nodes and entries visited, to bound the work aliases and
	// merge keys can multiply.
	steps int
}

// maxSteps bounds the work of one decode; a real configuration needs a tiny
// fraction of it.
const maxSteps = 1 << 18

// presetter is implemented by types whose fields have defaults that an
// explicit zero must be able to override (a target's weight of 0 is
// meaningful), so they are set before decoding rather than after.
type presetter interface {
	preset()
}

// preset gives a target its default weight of 1.
func (t *Target) preset() { t.Weight = 1 }

// unmarshalerType is yaml.Unmarshaler's reflect type.
var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// allowListType is AllowList's reflect type.
var allowListType = reflect.TypeFor[AllowList]()

// maxAliasDepth bounds alias chains, which a valid document never nests.
const maxAliasDepth = 64

// decode decodes n into v, which must be addressable. A null leaves v as is.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.step(path) {
		return
	}
	n = deref(n)
	if n == nil {
		d.problems.add(path, "invalid alias")
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		if v.Type() == allowListType {
			// Leaving the field out allows everything and [] nothing; a
			// null could be read as either, so neither is guessed.
			d.problems.add(path, "null is ambiguous here: leave the field out to allow all, or write [] to allow none")
		}
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.problems.add(path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problems.add(path, "expected a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	default:
		d.decodeScalar(n, v, path)
	}
}

// decodeScalar decodes a number or boolean.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	want := "a number"
	switch v.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		want = "an integer"
	}
	if n.Kind != yaml.ScalarNode {
		d.problems.add(path, "expected %s, got %s", want, kindName(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.problems.add(path, "expected %s, got %s %s", want, kindName(n), quote(n.Value))
	}
}

// decodeStruct decodes a mapping into a struct, reporting unknown fields.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problems.add(path, "expected a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, kv := range d.pairs(n, path, 0) {
		if d.exhausted() {
			return
		}
		child := fieldPath(path, kv.key)
		i, ok := fields[kv.key]
		if !ok {
			d.problems.add(child, "unknown field")
			continue
		}
		f := v.Field(i)
		if val := deref(kv.value); val != nil && val.ShortTag() != "!!null" {
			// A later key (an explicit one over a merged one) replaces the
			// whole value rather than merging into it.
			f.Set(reflect.Zero(f.Type()))
		}
		d.decode(kv.value, f, child)
	}
}

// decodeSlice decodes a sequence into a slice.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problems.add(path, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		if d.exhausted() {
			break
		}
		e := s.Index(i)
		if p, ok := e.Addr().Interface().(presetter); ok {
			p.preset()
		}
		d.decode(c, e, indexPath(path, i))
	}
	v.Set(s)
}

// decodeMap decodes a mapping into a map with string keys.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problems.add(path, "expected a mapping, got %s", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, kv := range d.pairs(n, path, 0) {
		if d.exhausted() {
			break
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(kv.value, e, fieldPath(path, kv.key))
		m.SetMapIndex(reflect.ValueOf(kv.key).Convert(v.Type().Key()), e)
	}
	v.Set(m)
}

// pair is one key and value of a mapping.
type pair struct {
	key   string
	value *yaml.Node
}

// pairs lists the entries of mapping n in the order they apply: merged
// entries ("<<: *anchor") first, so that explicit keys override them. A key
// written twice in the same mapping is a problem.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var merged, explicit []pair
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !d.step(path) {
			return nil
		}
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.problems.add(path, "mapping keys must be strings")
			continue
		}
		if isMergeKey(k) {
			merged = append(merged, d.merge(val, path, depth)...)
			continue
		}
		if seen[k.Value] {
			d.problems.add(fieldPath(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		explicit = append(explicit, pair{k.Value, val})
	}
	return append(merged, explicit...)
}

// merge returns the entries a merge key's value brings in: one mapping, or
// a list of mappings where earlier ones take precedence.
func (d *decoder) merge(val *yaml.Node, path string, depth int) []pair {
	if depth > maxAliasDepth {
		d.problems.add(path, "merge keys nested too deeply")
		return nil
	}
	val = deref(val)
	switch {
	case val != nil && val.Kind == yaml.MappingNode:
		return d.pairs(val, path, depth+1)
	case val != nil && val.Kind == yaml.SequenceNode:
		var out []pair
		for i := len(val.Content) - 1; i >= 0 && !d.exhausted(); i-- {
			m := deref(val.Content[i])
			if m == nil || m.Kind != yaml.MappingNode {
				d.problems.add(path, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			out = append(out, d.pairs(m, path, depth+1)...)
		}
		return out
	}
	d.problems.add(path, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}

// step counts one unit of work and reports whether the budget allows it,
// recording the problem once when it runs out.
func (d *decoder) step(path string) bool {
	d.steps++
	if d.steps == maxSteps+1 {
		d.problems.add(path, "document too complex: aliases expand too much")
	}
	return d.steps <= maxSteps
}

// exhausted reports whether the work budget has run out.
func (d *decoder) exhausted() bool { return d.steps > maxSteps }

// isMergeKey reports whether k is the YAML merge key "<<".
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// deref follows aliases to the node they name; nil if the chain is broken
// or too long.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == maxAliasDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		// The value itself is not shown: it may be a misplaced secret.
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!str":
			return "a string"
		}
		return "a scalar"
	}
	return "a document"
}

// fieldCache maps a struct type to its fields by YAML name.
var fieldCache sync.Map // reflect.Type -> map[string]int

// fieldsOf returns the field indexes of struct type t by YAML name.
func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	fieldCache.Store(t, m)
	return m
}
