package measures

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		name     string
		dialect  Dialect
		sql      string
		args     []any
		want     string
		wantArgs []any
	}{
		{"prefix and args on postgres", Postgres, "SELECT COUNT(*) FROM {user} WHERE lastaccess >= ? AND lastaccess < ?", []any{1, 2},
			"SELECT COUNT(*) FROM mdl_user WHERE lastaccess >= $1 AND lastaccess < $2", []any{1, 2}},
		{"mysql keeps ?", MySQL, "SELECT x FROM {log} WHERE a = ?", []any{"v"}, "SELECT x FROM mdl_log WHERE a = ?", []any{"v"}},
		{"literal with ? and braces untouched", Postgres, "SELECT '{user}?', ? FROM {t}", []any{7}, "SELECT '{user}?', $1 FROM mdl_t", []any{7}},
		{"doubled quote stays inside literal", Postgres, "SELECT 'it''s ?' , ?", []any{1}, "SELECT 'it''s ?' , $1", []any{1}},
		{"mysql backslash escape", MySQL, `SELECT 'a\'?' , ?`, []any{1}, `SELECT 'a\'?' , ?`, []any{1}},
		{"quoted identifier", Postgres, `SELECT "a?b" FROM {x} WHERE y = ?`, []any{1}, `SELECT "a?b" FROM mdl_x WHERE y = $1`, []any{1}},
		{"line comment", Postgres, "SELECT 1 -- what? {no}\nFROM {x} WHERE a = ?", []any{1}, "SELECT 1 -- what? {no}\nFROM mdl_x WHERE a = $1", []any{1}},
		{"block comment", Postgres, "SELECT /* ? {x} */ ?", []any{1}, "SELECT /* ? {x} */ $1", []any{1}},
		{"slice expands", Postgres, "SELECT 1 FROM {role} WHERE archetype IN (?) AND id > ?", []any{[]string{"a", "b"}, 5},
			"SELECT 1 FROM mdl_role WHERE archetype IN ($1, $2) AND id > $3", []any{"a", "b", 5}},
		{"empty slice is NULL", MySQL, "SELECT 1 WHERE x IN (?)", []any{[]int64{}}, "SELECT 1 WHERE x IN (NULL)", []any{}},
		{"bytes are not a slice", SQLite, "SELECT ?", []any{[]byte("ab")}, "SELECT ?", []any{[]byte("ab")}},
		{"brace that is not a table", Postgres, "SELECT '{' || ? || '}', {A}", []any{1}, "SELECT '{' || $1 || '}', {A}", []any{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, args, err := tc.dialect.Expand(tc.sql, "mdl_", tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("sql\n got %q\nwant %q", got, tc.want)
			}
			if !reflect.DeepEqual(args, tc.wantArgs) {
				t.Errorf("args got %#v want %#v", args, tc.wantArgs)
			}
		})
	}
}

func TestExpandArgumentCount(t *testing.T) {
	if _, _, err := Postgres.Expand("SELECT ?, ?", "", []any{1}); err == nil {
		t.Error("too few arguments: no error")
	}
	if _, _, err := Postgres.Expand("SELECT ?", "", []any{1, 2}); err == nil {
		t.Error("too many arguments: no error")
	}
}

func TestParseDialect(t *testing.T) {
	for in, want := range map[string]Dialect{"mysql": MySQL, "MariaDB": MySQL, "postgres": Postgres, "pgsql": Postgres, "sqlite": SQLite} {
		got, err := ParseDialect(in)
		if err != nil || got != want {
			t.Errorf("ParseDialect(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDialect("oracle"); err == nil || !strings.Contains(err.Error(), "oracle") {
		t.Errorf("ParseDialect(oracle) error %v should name the driver", err)
	}
}

// FuzzExpand checks that the rewriter never panics, and that on PostgreSQL it leaves no bare ?
// outside quotes when it succeeds.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"SELECT ? FROM {user}", "'?'", "\"{x}\" ?", "-- ?\n?", "/* ? */ ?", "''''?", "{", "{}", "?{a}?"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, sql string, n int) {
		if n < 0 || n > 8 {
			return
		}
		args := make([]any, n)
		for i := range args {
			args[i] = i
		}
		out, flat, err := Postgres.Expand(sql, "p_", args)
		if err != nil {
			return
		}
		if len(flat) != n {
			t.Fatalf("got %d flat args for %d args", len(flat), n)
		}
		// Re-expanding the output on PostgreSQL with no arguments must succeed: every ? that
		// was a placeholder has become $n, and the rest sit in quotes or comments.
		if _, _, err := Postgres.Expand(out, "", nil); err != nil {
			t.Fatalf("output %q still has placeholders: %v", out, err)
		}
	})
}
