package all

import (
	"go/build"
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

// TestEveryPackIsImported walks contrib/ and requires every pack (a package with Go files other
// than tests, besides contrib/all and contrib/contribtest) to be blank-imported here: a pack
// left out would pass its own tests and never be linked into the binary.
func TestEveryPackIsImported(t *testing.T) {
	const module = "github.com/moodle-zabbix/moodle-zabbix"
	f, err := parser.ParseFile(token.NewFileSet(), "all.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		imported[p] = true
	}
	var packs []string
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, err := filepath.Rel("..", path)
		if err != nil {
			return err
		}
		if rel != "." && (rel == "all" || rel == "contribtest" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			if _, none := err.(*build.NoGoError); none {
				return nil
			}
			return err
		}
		if len(pkg.GoFiles) > 0 {
			packs = append(packs, module+"/contrib/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) == 0 {
		t.Fatal("found no pack under contrib/")
	}
	sort.Strings(packs)
	for _, p := range packs {
		if !imported[p] {
			t.Errorf("contrib/all/all.go does not import the pack %s: add\n\t_ %q", p, p)
		}
		delete(imported, p)
	}
	for p := range imported {
		if _, err := os.Stat(filepath.Join("..", strings.TrimPrefix(p, module+"/contrib/"))); err != nil {
			t.Errorf("contrib/all/all.go imports %s, which is not a pack under contrib/", p)
		}
	}
}
