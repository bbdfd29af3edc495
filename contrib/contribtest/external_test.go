package contribtest_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsableFromAnotherModule builds a throwaway Go module outside this repository, holding a
// pack and its test written against contribtest (testdata/extpack), and type-checks both with
// go vet, offline: a pack in another module cannot import this module's internal packages, so
// contribtest's exported API must not need them. With -run it also runs the pack's test on
// SQLite (MariaDB and PostgreSQL when .ci/services.env is sourced).
func TestUsableFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds another module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build another module: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The new module requires this one and, as go mod tidy would write, the modules this one
	// requires (copied from its go.mod), so that nothing has to be downloaded.
	ours, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var gomod strings.Builder
	for _, line := range strings.Split(string(ours), "\n") {
		if strings.HasPrefix(line, "module ") {
			line = "module example.org/moodle-monitoring"
		}
		gomod.WriteString(line + "\n")
	}
	gomod.WriteString("require github.com/moodle-zabbix/moodle-zabbix v0.0.0\n\n" +
		"replace github.com/moodle-zabbix/moodle-zabbix => " + root + "\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"go.mod": []byte(gomod.String()), "go.sum": sum}
	for _, name := range []string{"pack.go", "pack_test.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "extpack", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Join("booking", name)] = b
	}
	for name, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("go %s in a module outside the repository: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	run("vet", "./...")
	run("test", "-count=1", "./...")
}
