// Package internal holds no code: its test enforces the layering of the
// packages below it.
package internal

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/llmgw/llmgw/"

// rules lists what a package tree may not reach. from is a directory under
// the module root (a tree: its subdirectories too), forbidden a package
// directory it may not import, directly (test files included) or through
// other packages.
var rules = []struct{ from, forbidden, why string }{
	{"internal/router", "internal/auth",
		"routing reads what it needs of the caller from pipeline.Call, and knows nothing of authentication"},
	{"internal/provider", "internal/server",
		"upstream adapters and their fakes sit below the HTTP surface"},
	{"internal/provider", "internal/gateway",
		"upstream adapters and their fakes sit below the gateway that wires them"},
	{"internal/provider", "internal/conformance",
		"the conformance suite drives the whole gateway, above the providers"},
}

func TestLayering(t *testing.T) {
	g := importGraph(t, "..")
	for _, r := range rules {
		for _, pkg := range g.packagesUnder(r.from) {
			if path := g.reach(pkg, r.forbidden); path != nil {
				t.Errorf("%s reaches %s (%s): %s", pkg, r.forbidden, r.why, strings.Join(path, " -> "))
			}
		}
	}
}

// The rules check something: the graph sees the imports that exist.
func TestLayeringSeesImports(t *testing.T) {
	g := importGraph(t, "..")
	if g.reach("internal/server", "internal/llm") == nil {
		t.Error("internal/server does not reach internal/llm: the import graph is wrong")
	}
	if g.reach("internal/conformance", "internal/server") == nil {
		t.Error("internal/conformance does not reach internal/server: the import graph is wrong")
	}
	if len(g.packagesUnder("internal/provider")) < 3 {
		t.Errorf("packages under internal/provider: %v", g.packagesUnder("internal/provider"))
	}
}

// graph holds, per package directory, its internal imports: all of them
// (test files included) and those of its non-test files, which are the
// only ones other packages inherit.
type graph struct {
	all, build map[string]map[string]bool
}

// importGraph parses the imports of every Go file under root/internal.
func importGraph(t *testing.T, root string) *graph {
	t.Helper()
	g := &graph{all: map[string]map[string]bool{}, build: map[string]map[string]bool{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if g.all[pkg] == nil {
			g.all[pkg], g.build[pkg] = map[string]bool{}, map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil || !strings.HasPrefix(p, module) {
				continue
			}
			p = strings.TrimPrefix(p, module)
			g.all[pkg][p] = true
			if !strings.HasSuffix(path, "_test.go") {
				g.build[pkg][p] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// packagesUnder returns the packages in the tree at dir, sorted.
func (g *graph) packagesUnder(dir string) []string {
	var out []string
	for p := range g.all {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// reach returns an import path from pkg to target (pkg's test files, then
// the non-test files of what they import), or nil when there is none.
func (g *graph) reach(pkg, target string) []string {
	prev := map[string]string{}
	queue := []string{}
	for p := range g.all[pkg] {
		if _, seen := prev[p]; !seen {
			prev[p] = pkg
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == target || strings.HasPrefix(p, target+"/") {
			path := []string{p}
			for q := prev[p]; q != pkg; q = prev[q] {
				path = append([]string{q}, path...)
			}
			return append([]string{pkg}, path...)
		}
		for next := range g.build[p] {
			if _, seen := prev[next]; !seen && next != pkg {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}
