package measures

import "testing"

// TestWithInterpolation: the MariaDB pool's DSN gains interpolateParams=true in each shape of DSN
// the driver accepts, and a DSN that chose for itself is left as it is.
func TestWithInterpolation(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"root@tcp(127.0.0.1:3306)/moodle", "root@tcp(127.0.0.1:3306)/moodle?interpolateParams=true"},
		{"u:p@tcp(db:3306)/moodle?timeout=5s", "u:p@tcp(db:3306)/moodle?timeout=5s&interpolateParams=true"},
		{"u:p@tcp(db:3306)/moodle?", "u:p@tcp(db:3306)/moodle?interpolateParams=true"},
		{"u:a/b?c@unix(/run/mysqld/mysqld.sock)/moodle", "u:a/b?c@unix(/run/mysqld/mysqld.sock)/moodle?interpolateParams=true"},
		{"u:p@tcp(db)/moodle?interpolateParams=false", "u:p@tcp(db)/moodle?interpolateParams=false"},
		{"u:p@tcp(db)/moodle?tls=true&interpolateParams=true", "u:p@tcp(db)/moodle?tls=true&interpolateParams=true"},
		{"u:p@tcp(db)/moodle?xinterpolateParams=1", "u:p@tcp(db)/moodle?xinterpolateParams=1&interpolateParams=true"},
		{"no database part", "no database part"},
	} {
		if got := withInterpolation(tc.dsn); got != tc.want {
			t.Errorf("withInterpolation(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
