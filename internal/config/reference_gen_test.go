package config

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The configuration reference, docs/configuration.md, is written from the
// source of this package: the doc comment of every field reachable from
// Config through its yaml tags is what the reference says of that key. It
// is read with go/parser rather than from the compiled types because
// reflection sees no comments; reflectKeys walks the compiled types the
// same way, and the two must agree.

// refKey is one key of the configuration file.
type refKey struct {
	// Path is the key's dotted path, with [] for any item of a list and
	// <name> for any entry of a map: "providers[].api_key".
	Path string
	// Type is the key's type in the file's terms: "duration", "list of
	// strings", "object".
	Type string
	// Doc is the field's doc comment on one line, followed, for an
	// object, by its type's.
	Doc string
}

// refSection is a top-level key and every key below it.
type refSection struct {
	Key   refKey
	Intro string
	Keys  []refKey
}

// refSource is the parsed source of the package.
type refSource struct {
	types map[string]*ast.TypeSpec
	docs  map[string]string // doc comment of each type, by name
	// problems are fields the reference cannot describe: no doc comment,
	// a type it does not know.
	problems []string
}

// parseSource parses the package's non-test files in dir.
func parseSource(dir string) (*refSource, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	src := &refSource{types: map[string]*ast.TypeSpec{}, docs: map[string]string{}}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				src.types[ts.Name.Name] = ts
				src.docs[ts.Name.Name] = oneLine(doc)
			}
		}
	}
	if src.types["Config"] == nil {
		return nil, fmt.Errorf("no type Config in %s", dir)
	}
	return src, nil
}

// oneLine returns a comment's text with its lines, and paragraphs, joined
// by single spaces.
func oneLine(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	return strings.Join(strings.Fields(c.Text()), " ")
}

// withoutGoName drops the Go name a field's comment begins with, which
// means nothing to whoever writes the file: "Listen is the host:port ..."
// becomes "The host:port ...", "AccessLog turns ..." "Turns ...". A
// comment that goes on otherwise ("Notify, for postgres only, says ...")
// is kept whole.
func withoutGoName(name, doc string) string {
	rest, ok := strings.CutPrefix(doc, name+" ")
	if !ok {
		return doc
	}
	for _, verb := range []string{"is ", "are "} {
		if r, ok := strings.CutPrefix(rest, verb); ok && r != "" {
			rest = r
			break
		}
	}
	r, size := utf8.DecodeRuneInString(rest)
	if !unicode.IsLower(r) && !strings.HasPrefix(rest, `"`) {
		return doc
	}
	return string(unicode.ToUpper(r)) + rest[size:]
}

// yamlName returns the key a field is read from, as the decoder does
// (fieldsOf): the yaml tag's name, "" for a field that is not read.
func yamlName(tag string) (name string, inline bool) {
	v := reflect.StructTag(tag).Get("yaml")
	name, opts, _ := strings.Cut(v, ",")
	if name == "-" {
		return "", false
	}
	return name, strings.Contains(","+opts+",", ",inline,")
}

// sections returns the reference: one section per field of Config.
func (s *refSource) sections() []refSection {
	var out []refSection
	for _, f := range s.fields("Config", "") {
		sec := refSection{Key: f.key, Intro: f.key.Doc}
		sec.Keys = s.keysOf(f.expr, f.key.Path)
		out = append(out, sec)
	}
	return out
}

// refField is a field read from the file, with its Go type.
type refField struct {
	key  refKey
	expr ast.Expr
}

// fields returns the keys of the struct type named typ, under prefix.
func (s *refSource) fields(typ, prefix string) []refField {
	ts := s.types[typ]
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		s.problems = append(s.problems, fmt.Sprintf("%s: %s is not a struct", prefix, typ))
		return nil
	}
	var out []refField
	for _, f := range st.Fields.List {
		if f.Tag == nil {
			continue
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			s.problems = append(s.problems, fmt.Sprintf("%s.%s: tag %s: %v", typ, f.Names, f.Tag.Value, err))
			continue
		}
		name, inline := yamlName(tag)
		if name == "" && !inline {
			continue
		}
		if inline || len(f.Names) != 1 {
			s.problems = append(s.problems, fmt.Sprintf("%s: a field of %s is embedded, inline or shares its line: the decoder reads one named field per key", typ, typ))
			continue
		}
		path := joinPath(prefix, name)
		if !f.Names[0].IsExported() {
			continue
		}
		doc := oneLine(f.Doc)
		if doc == "" {
			s.problems = append(s.problems, fmt.Sprintf("%s (%s.%s) has no doc comment", path, typ, f.Names[0].Name))
		}
		doc = withoutGoName(f.Names[0].Name, doc)
		kind := s.typeName(f.Type, path)
		if kind == "object" || kind == "list of objects" || kind == "map of objects" {
			if td := s.docs[s.structName(f.Type)]; td != "" && td != doc {
				doc = strings.TrimSpace(doc + " " + td)
			}
		}
		out = append(out, refField{key: refKey{Path: path, Type: kind, Doc: doc}, expr: f.Type})
	}
	return out
}

// keysOf returns every key below a field of type expr at path, depth
// first in field order.
func (s *refSource) keysOf(expr ast.Expr, path string) []refKey {
	var out []refKey
	switch e := expr.(type) {
	case *ast.StarExpr:
		return s.keysOf(e.X, path)
	case *ast.ArrayType:
		return s.keysOf(e.Elt, path+"[]")
	case *ast.MapType:
		return s.keysOf(e.Value, path+".<name>")
	case *ast.Ident:
		ts := s.types[e.Name]
		if ts == nil {
			return nil
		}
		if _, ok := ts.Type.(*ast.StructType); !ok {
			return s.keysOf(ts.Type, path)
		}
		for _, f := range s.fields(e.Name, path) {
			out = append(out, f.key)
			out = append(out, s.keysOf(f.expr, f.key.Path)...)
		}
	}
	return out
}

// structName returns the struct type a field of type expr holds, through
// pointers, lists and maps; "" if none.
func (s *refSource) structName(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return s.structName(e.X)
	case *ast.ArrayType:
		return s.structName(e.Elt)
	case *ast.MapType:
		return s.structName(e.Value)
	case *ast.Ident:
		if ts := s.types[e.Name]; ts != nil {
			if _, ok := ts.Type.(*ast.StructType); ok {
				return e.Name
			}
		}
	}
	return ""
}

// typeName returns the type of a field in the terms of the file.
func (s *refSource) typeName(expr ast.Expr, path string) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return s.typeName(e.X, path)
	case *ast.ArrayType:
		if e.Len == nil {
			return "list of " + plural(s.typeName(e.Elt, path+"[]"))
		}
	case *ast.MapType:
		if k, ok := e.Key.(*ast.Ident); ok && k.Name == "string" {
			return "map of " + plural(s.typeName(e.Value, path+".<name>"))
		}
	case *ast.Ident:
		switch e.Name {
		case "string":
			return "string"
		case "bool":
			return "boolean"
		case "int", "int32", "int64", "uint", "uint32", "uint64":
			return "integer"
		case "float32", "float64":
			return "number"
		case "Secret":
			return "secret"
		case "Duration":
			return "duration"
		}
		if ts := s.types[e.Name]; ts != nil {
			if _, ok := ts.Type.(*ast.StructType); ok {
				return "object"
			}
			return s.typeName(ts.Type, path)
		}
	}
	s.problems = append(s.problems, fmt.Sprintf("%s: no name for its Go type %T", path, expr))
	return "?"
}

// plural names a list's or map's items.
func plural(t string) string {
	if strings.HasPrefix(t, "list of ") || strings.HasPrefix(t, "map of ") {
		return t
	}
	return t + "s"
}

// joinPath appends a key to a path.
func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// reflectKeys returns the path of every key below t, read from the
// compiled types by the same rules: the other half of the cross-check.
func reflectKeys(t reflect.Type, prefix string, out map[string]bool) {
	switch t.Kind() {
	case reflect.Pointer:
		reflectKeys(t.Elem(), prefix, out)
	case reflect.Slice:
		reflectKeys(t.Elem(), prefix+"[]", out)
	case reflect.Map:
		reflectKeys(t.Elem(), prefix+".<name>", out)
	case reflect.Struct:
		if t.PkgPath() != reflect.TypeFor[Config]().PkgPath() {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			path := joinPath(prefix, name)
			out[path] = true
			reflectKeys(f.Type, path, out)
		}
	}
}
