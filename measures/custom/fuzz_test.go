package custom

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary files to Parse: it must return a file or an error naming the file,
// never panic, and a file it accepts has a template and at least one measure.
func FuzzParse(f *testing.F) {
	f.Add([]byte("measures:\n  - key: moodle.custom.x\n    name: X\n    description: X.\n    family: daily\n    sql: SELECT COUNT(*) AS value FROM {user}\n"))
	f.Add([]byte("template: T\ncomponent: local_x\nmeasures: []\n"))
	f.Add([]byte("discoveries:\n  - {key: k, sql: 'SELECT (a) b, \"c\" FROM t', macros: [{macro: '{#A}', column: b}], people: c}\nmeasures: [{sql: \"SELECT x -- y\\n AS z\"}]\n"))
	f.Add([]byte("measures:\n  - sql: SELECT COUNT(DISTINCT userid) AS value, (SELECT MAX(email) FROM {user}) v FROM {log} WHERE a = '?' AND b = ?\n    args: [from]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if file.Template == "" || len(file.Measures) == 0 {
			t.Fatalf("accepted a file without template or measures: %+v", file)
		}
	})
}

// FuzzCheckSelect feeds arbitrary SQL to the static privacy check: it must never panic, and
// any name it returns is neither a person's column nor an id.
func FuzzCheckSelect(f *testing.F) {
	for _, s := range []string{
		"SELECT COUNT(*) AS n FROM {user}",
		"SELECT u.email FROM {user} u",
		"WITH a AS (SELECT 1 AS x) SELECT x AS y FROM a UNION SELECT 2",
		"SELECT (SELECT MAX(id) FROM t WHERE (a = 'x''y')) AS z /* c */ FROM t",
		"SELECT `id`, \"userid\" FROM t",
		"select distinct count(x) n from t group by y",
		"SELECT ((( FROM",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		names, err := checkSelect(sql)
		if err != nil {
			return
		}
		for _, n := range names {
			if isIdentifyingName(n) {
				t.Fatalf("%q: accepted result column %q", sql, n)
			}
		}
	})
}
