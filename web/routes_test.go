package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestEveryHandlerNamesItsRoute reads the package's source: each handler the
// router calls has a doc comment naming the path it serves.
func TestEveryHandlerNamesItsRoute(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, f := range pkgs["web"].Files {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
				docs[fn.Name.Name] = fn.Doc.Text()
			}
		}
	}
	method := regexp.MustCompile(`\(\*Server\)\.(\w+)-fm$`)
	app := newTestApp(t)
	checked := 0
	for _, rt := range app.srv.Echo().Routes() {
		m := method.FindStringSubmatch(rt.Name)
		if m == nil || strings.HasPrefix(rt.Path, "/v1") || strings.Contains(rt.Path, "*") {
			continue
		}
		checked++
		if !strings.Contains(docs[m[1]], rt.Method+" "+rt.Path) && !strings.Contains(docs[m[1]], rt.Path+".") {
			t.Errorf("%s (%s %s) has no doc comment naming its route: %q", m[1], rt.Method, rt.Path, docs[m[1]])
		}
	}
	if checked < 50 {
		t.Fatalf("only %d routes checked", checked)
	}
}
