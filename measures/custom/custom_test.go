package custom_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/custom"
)

// builtin returns a registry with one built-in measure, to check duplicates against.
func builtin(t *testing.T) *measures.Registry {
	t.Helper()
	reg := measures.NewRegistry()
	reg.MustRegister(measures.Measure{
		Key: "moodle.users.total", Name: "Users", Description: "Users of the site.", Family: measures.Daily,
		Type: measures.Unsigned, Query: &measures.Query{Name: "users.total", SQL: "SELECT COUNT(*) AS n FROM {user}"}, Column: "n",
	})
	return reg
}

// load parses and registers one file's text.
func load(t *testing.T, reg *measures.Registry, name, text string) error {
	t.Helper()
	f, err := custom.Parse(name, []byte(text))
	if err != nil {
		return err
	}
	return custom.Register(reg, []*custom.File{f})
}

const goodMeasure = `measures:
  - key: moodle.custom.loans
    name: Library loans
    description: Loans recorded during the day.
    family: daily
    units: loans
    aggregate: sum
    sql: SELECT COUNT(*) AS value FROM {local_library_loan} WHERE timecreated >= ? AND timecreated < ?
    args: [from, to]
`

func TestGoodFileRegisters(t *testing.T) {
	reg := builtin(t)
	if err := load(t, reg, "library.yaml", goodMeasure); err != nil {
		t.Fatal(err)
	}
	m := reg.Lookup("moodle.custom.loans")
	if m == nil || m.TemplateName() != custom.DefaultTemplate || m.Aggregate != measures.Sum || m.Column != "value" {
		t.Fatalf("registered %+v", m)
	}
	if got := reg.Templates(); !strings.Contains(strings.Join(got, ","), custom.DefaultTemplate) {
		t.Errorf("templates %v lack %q", got, custom.DefaultTemplate)
	}
}

// TestRefusedWithFileLine checks each refusal names the file and the line at fault.
func TestRefusedWithFileLine(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(goodMeasure, old) {
			t.Fatalf("%q is not in the good file", old)
		}
		return strings.Replace(goodMeasure, old, new, 1)
	}
	sql := func(s string) string {
		return replace("SELECT COUNT(*) AS value FROM {local_library_loan} WHERE timecreated >= ? AND timecreated < ?", s)
	}
	cases := []struct {
		name, text, want string
	}{
		{"bad key", replace("moodle.custom.loans", "moodle.custom.loans per day"), `x.yaml:2: moodle.custom.loans per day: key "moodle.custom.loans per day": invalid character ' '`},
		{"key outside moodle.", replace("moodle.custom.loans", "custom.loans"), `x.yaml:2: custom.loans: key must start with "moodle."`},
		{"duplicate of a built-in key", replace("moodle.custom.loans", "moodle.users.total"), "x.yaml:2: moodle.users.total: duplicate key"},
		{"description without full stop", replace("Loans recorded during the day.", "Loans recorded during the day"), "x.yaml:4: moodle.custom.loans: description \"Loans recorded during the day\" must end with a full stop"},
		{"description not capitalised", replace("Loans recorded during the day.", "loans recorded during the day."), "x.yaml:4: moodle.custom.loans: description \"loans recorded during the day.\" must start with a capital letter"},
		{"no description", replace("    description: Loans recorded during the day.\n", ""), "x.yaml:2: moodle.custom.loans: description is empty"},
		{"unknown family", replace("family: daily", "family: yearly"), `x.yaml:5: moodle.custom.loans: unknown family "yearly"`},
		{"unknown field", replace("units: loans", "unit: loans"), `x.yaml:6: unknown field "unit" in a measure (it has key, name,`},
		{"email in the result", sql("SELECT u.email AS value FROM {user} u"), "x.yaml:8: moodle.custom.loans: sql: the select list reads email outside COUNT(...)"},
		{"result named userid", sql("SELECT COUNT(*) AS userid FROM {user}"), `x.yaml:8: moodle.custom.loans: sql: result column "userid" names a person's data or a row id`},
		{"bare id", sql("SELECT id FROM {user}"), `x.yaml:8: moodle.custom.loans: sql: result column "id" names a person's data or a row id`},
		{"largest user id", sql("SELECT MAX(userid) AS value FROM {logstore_standard_log}"), "x.yaml:8: moodle.custom.loans: sql: the select list reads userid outside COUNT(...)"},
		{"IP address", sql("SELECT MIN(lastip) AS value FROM {user}"), "reads lastip outside COUNT"},
		{"names in a subquery", sql("SELECT (SELECT MAX(firstname) FROM {user}) AS value"), "reads firstname outside COUNT"},
		{"related user", sql("SELECT SUM(relateduserid) AS value FROM {logstore_standard_log}"), "reads relateduserid outside COUNT"},
		{"select star", sql("SELECT * FROM {user}"), "x.yaml:8: moodle.custom.loans: sql: SELECT * cannot be checked"},
		{"unnamed column", sql("SELECT COUNT(*) FROM {user}"), `result column "count(*)" has no name`},
		{"column not returned", sql("SELECT COUNT(*) AS loans FROM {user}"), `x.yaml:2: moodle.custom.loans: column "value" is not returned by the query (it returns loans)`},
		{"unknown argument", replace("args: [from, to]", "args: [from, now]"), `x.yaml:9: moodle.custom.loans: unknown argument "now"`},
		{"argument count", replace("args: [from, to]", "args: [from]"), "x.yaml:9: moodle.custom.loans: sql has more ? placeholders than the 1 arguments given"},
		{"text aggregated", replace("units: loans", "type: text"), "x.yaml:7: moodle.custom.loans: a TEXT value cannot be aggregated with sum"},
		{"built-in template", "template: Moodle\n" + goodMeasure, `x.yaml:1: template "Moodle" is a built-in template`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := load(t, builtin(t), "x.yaml", c.text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestAcceptedQueries checks that counting persons, filtering on them and reading other
// tables' columns stay allowed.
func TestAcceptedQueries(t *testing.T) {
	for _, q := range []string{
		"SELECT COUNT(DISTINCT userid) AS value FROM {logstore_standard_log} WHERE timecreated >= ? AND timecreated < ?",
		"SELECT COUNT(*) AS value FROM {user} WHERE email LIKE '%@example.org' AND timecreated >= ? AND timecreated < ?",
		"SELECT (SELECT COUNT(*) FROM {user} u WHERE u.lastip <> '') value FROM {config} WHERE id = 1 AND ? < ?",
		"SELECT COALESCE(SUM(CASE WHEN l.crud = 'c' THEN 1 ELSE 0 END), 0) AS value FROM {logstore_standard_log} l WHERE l.userid > 2 AND l.timecreated >= ? AND l.timecreated < ?",
	} {
		text := strings.Replace(goodMeasure, "SELECT COUNT(*) AS value FROM {local_library_loan} WHERE timecreated >= ? AND timecreated < ?", q, 1)
		if err := load(t, builtin(t), "ok.yaml", text); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestDuplicatesAcrossFiles(t *testing.T) {
	a, err := custom.Parse("a.yaml", []byte(goodMeasure))
	if err != nil {
		t.Fatal(err)
	}
	b, err := custom.Parse("b.yaml", []byte("template: Moodle library\n"+goodMeasure))
	if err != nil {
		t.Fatal(err)
	}
	err = custom.Register(builtin(t), []*custom.File{a, b})
	if err == nil || !strings.Contains(err.Error(), "b.yaml:3: moodle.custom.loans: duplicate key") {
		t.Fatalf("got %v, want the second file's key refused at its line", err)
	}
}

func TestGroupedNeedsDiscoveryAndPeople(t *testing.T) {
	text := `discoveries:
  - key: moodle.custom.branches
    name: Library branches
    description: Library branches with loans.
    family: daily
    sql: SELECT b.code AS branch FROM {local_library_branch} b
    macros: [{macro: "{#BRANCH}", column: branch}]
measures:
  - key: moodle.custom.branchloans[{#BRANCH}]
    name: Loans in {#BRANCH}
    description: Loans of one branch during the day.
    family: daily
    discovery: moodle.custom.branches
    sql: SELECT code AS branch, COUNT(*) AS value FROM {local_library_branch} GROUP BY code
`
	err := load(t, builtin(t), "g.yaml", text)
	if err == nil || !strings.Contains(err.Error(), "g.yaml:2: moodle.custom.branches: people is required") {
		t.Fatalf("got %v", err)
	}
	text = strings.Replace(text, "    macros:", "    people: people\n    macros:", 1)
	text = strings.Replace(text, "SELECT b.code AS branch FROM", "SELECT b.code AS branch, COUNT(DISTINCT l.userid) AS people FROM {local_library_loan} l JOIN", 1)
	text = strings.Replace(text, "{local_library_branch} b\n", "{local_library_branch} b ON b.id = l.branchid GROUP BY b.code\n", 1)
	if err := load(t, builtin(t), "g.yaml", text); err != nil {
		t.Fatal(err)
	}
	err = load(t, builtin(t), "g.yaml", strings.Replace(text, "    discovery: moodle.custom.branches\n", "", 1))
	if err == nil || !strings.Contains(err.Error(), "g.yaml:10: moodle.custom.branchloans[{#BRANCH}]: key uses an LLD macro but the measure has no discovery rule") {
		t.Fatalf("got %v", err)
	}
}

func TestFilesReadsDirectoriesInOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.yaml", "a.yml", "notes.txt", ".hidden.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(goodMeasure), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := custom.Files([]string{dir, filepath.Join(dir, "a.yml")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := custom.Files([]string{filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Error("a missing file is accepted")
	}
}

// TestRowCountCheckedAtRunTime runs a query the static check cannot judge (a GROUP BY
// hidden behind the text) and expects the runner to refuse its rows.
func TestRowCountCheckedAtRunTime(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)
	if err := fixture.Generate(1, fixture.Tiny, now).Load(context.Background(), db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	reg := measures.NewRegistry()
	text := strings.Replace(goodMeasure, "SELECT COUNT(*) AS value FROM {local_library_loan} WHERE timecreated >= ? AND timecreated < ?",
		"SELECT COUNT(*) AS value FROM {user} WHERE timecreated >= ? - ? GROUP BY auth", 1)
	if err := load(t, reg, "rows.yaml", text); err != nil {
		t.Fatal(err)
	}
	r := &measures.Runner{Registry: reg, Logger: slog.New(slog.DiscardHandler)}
	b := r.Run(context.Background(), &measures.Site{Name: "t", DB: db, Dialect: measures.SQLite, Prefix: "mdl_"}, measures.Daily, now)
	if len(b.Values) != 0 || len(b.Failures) != 1 || !strings.Contains(b.Failures[0].Error(), "rows.yaml:2: the query returned") ||
		!strings.Contains(b.Failures[0].Error(), "must return one row") {
		t.Fatalf("values %v failures %v", b.Values, b.Failures)
	}
}

// TestExampleFile checks that the example in docs/ loads on top of the whole catalogue.
func TestExampleFile(t *testing.T) {
	files, err := custom.Load([]string{filepath.Join("..", "..", "docs", "custom-measures.example.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	reg := catalogue.Registry().Clone()
	if err := custom.Register(reg, files); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"moodle.custom.badges.issued", "moodle.custom.badges.recipients", "moodle.custom.badges.courseissued[{#COURSEID}]"} {
		if m := reg.Lookup(k); m == nil || m.TemplateName() != custom.DefaultTemplate {
			t.Errorf("%s: %+v", k, m)
		}
	}
	if catalogue.Registry().Lookup("moodle.custom.badges.issued") != nil {
		t.Error("registering into a clone changed the catalogue")
	}
}

// TestComponentSkipsCleanly checks that a file's measures are skipped, not failed, on a site
// without the plugin the file names.
func TestComponentSkipsCleanly(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)
	if err := fixture.Generate(1, fixture.Tiny, now).Load(context.Background(), db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	reg := measures.NewRegistry()
	if err := load(t, reg, "library.yaml", "component: local_library\n"+goodMeasure); err != nil {
		t.Fatal(err)
	}
	r := &measures.Runner{Registry: reg, Logger: slog.New(slog.DiscardHandler)}
	b := r.Run(context.Background(), &measures.Site{Name: "t", DB: db, Dialect: measures.SQLite, Prefix: "mdl_"}, measures.Daily, now)
	if len(b.Failures) != 0 || len(b.Values) != 0 || len(b.Skipped) != 1 || b.Skipped[0].Reason != "plugin local_library is not installed" {
		t.Fatalf("failures %v values %v skipped %v", b.Failures, b.Values, b.Skipped)
	}
}
