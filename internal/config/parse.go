package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path and parses it with Parse, expanding
// references from the process environment.
func Load(path string) (*Config, error) {
	return LoadWith(path, nil)
}

// LoadWith is Load with the secret references resolved by r (ParseWith).
func LoadWith(path string, r SecretResolver) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return ParseWith(data, os.LookupEnv, r)
}

// Parse decodes a YAML configuration, applies defaults and validates it.
//
// ${VAR} and ${VAR:-default} in scalar values are expanded from env (the
// default is used when VAR is unset or empty; an unset VAR without default
// expands to ""), and $$ yields a literal $. A value containing a reference
// is typed by its expanded text, so `rpm: "${RPM}"` may hold a number.
// Unknown keys are errors. Every problem is reported at once, each as
// "path: message". An empty document gives the defaults. A nil env is an
// empty environment.
//
// A secret reference ("file:", "vault:"...) in a Secret field is an error
// naming the field: ParseWith resolves them.
func Parse(data []byte, env func(string) (string, bool)) (*Config, error) {
	return ParseWith(data, env, nil)
}

// ParseWith is Parse that replaces every secret reference by the value r
// fetches, after decoding and before validation, so that validation sees
// the values. A reference that cannot be fetched is an error naming the
// field and the reference, never a value. Nothing is fetched when the
// document does not decode.
func ParseWith(data []byte, env func(string) (string, bool), r SecretResolver) (*Config, error) {
	root, err := parseNode(data)
	if err != nil {
		return nil, err
	}
	cfg := &Config{}
	var p problems
	if root != nil {
		if env == nil {
			env = func(string) (string, bool) { return "", false }
		}
		expandNode(root, "", env, &p)
		if root.Kind != yaml.MappingNode {
			p.add("", "the configuration must be a mapping, got %s", kindName(root))
			return nil, p.err()
		}
		d := decoder{problems: &p}
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
		if len(p) == 0 {
			cfg.resolveSecrets(r, &p)
		}
	}
	// Validation runs even after decoding problems, so that one run lists
	// everything to fix.
	cfg.ApplyDefaults()
	cfg.validate(&p)
	if len(p) > 0 {
		return nil, p.err()
	}
	return cfg, nil
}

// parseNode reads the single YAML document in data. It returns nil for an
// empty document or one holding only null.
func parseNode(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return nil, errors.New("config: more than one YAML document")
	}
	n := &doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	return n, nil
}

// expandNode expands environment references in every scalar value under n
// (mapping keys are left alone). Expanding nodes rather than the raw text is
// what keeps an environment value from injecting YAML structure.
func expandNode(n *yaml.Node, path string, env func(string) (string, bool), p *problems) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			expandNode(c, path, env, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandNode(c, indexPath(path, i), env, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			child := path
			if !isMergeKey(k) {
				child = fieldPath(path, k.Value)
			}
			expandNode(n.Content[i+1], child, env, p)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, err := expand(n.Value, env)
		if err != nil {
			p.add(path, "%v", err)
			return
		}
		n.Value = v
		if n.Style&yaml.TaggedStyle == 0 {
			n.Tag = resolvedTag(v)
		}
	}
}

// resolvedTag returns the YAML tag a plain scalar with text v would get,
// except that non-empty text is never null: an environment value "null"
// stays the string "null".
func resolvedTag(v string) string {
	tag := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
	if tag == "!!null" && v != "" {
		return "!!str"
	}
	return tag
}

// expand replaces ${VAR} and ${VAR:-default} in s using env, and $$ with $.
// Any other $ is kept as is. Errors never quote s, which may be a secret.
func expand(s string, env func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '$' || i+1 == len(s):
			b.WriteByte(c)
			i++
		case s[i+1] == '$':
			b.WriteByte('$')
			i += 2
		case s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New("unterminated ${ reference (write $$ for a literal $)")
			}
			name, def, hasDef := strings.Cut(s[i+2:i+2+end], ":-")
			if !validVarName(name) {
				return "", errors.New("invalid ${...} reference: want ${NAME} or ${NAME:-default}, NAME made of letters, digits and _")
			}
			v, ok := env(name)
			if hasDef && (!ok || v == "") {
				v = def
			}
			b.WriteString(v)
			i += end + 3
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// validVarName reports whether name is a shell-style variable name.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// problems collects "path: message" errors.
type problems []error

// add records a problem at path.
func (p *problems) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		*p = append(*p, errors.New(msg))
		return
	}
	*p = append(*p, errors.New(path+": "+msg))
}

// err joins the problems, or returns nil if there are none.
func (p problems) err() error { return errors.Join(p...) }

// fieldPath returns path extended by a key.
func fieldPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath returns path extended by a list index.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
