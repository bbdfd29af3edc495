package measures

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Dialect is a database engine's flavour of SQL.
type Dialect string

// The supported dialects. SQLite serves the demo and fast unit tests only.
const (
	MySQL    Dialect = "mysql"
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// ParseDialect maps a driver name from the configuration to a dialect.
func ParseDialect(driver string) (Dialect, error) {
	switch strings.ToLower(driver) {
	case "mysql", "mariadb":
		return MySQL, nil
	case "postgres", "postgresql", "pgsql", "pgx":
		return Postgres, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return "", fmt.Errorf("unknown database driver %q (want mysql, postgres or sqlite)", driver)
}

// DriverName returns the database/sql driver registered for the dialect.
func (d Dialect) DriverName() string {
	switch d {
	case Postgres:
		return "pgx"
	case SQLite:
		return "sqlite"
	}
	return "mysql"
}

// Expand turns Moodle-style SQL into the dialect's SQL: {name} becomes prefix+name, and each ?
// becomes a placeholder ($1, $2... on PostgreSQL). A slice argument (other than []byte) expands
// its ? into one placeholder per element, or NULL when it is empty. String literals, quoted
// identifiers and comments are copied unchanged. It returns the flattened arguments.
func (d Dialect) Expand(sql, prefix string, args []any) (string, []any, error) {
	var out strings.Builder
	out.Grow(len(sql) + 16)
	flat := make([]any, 0, len(args))
	argi := 0
	n := 0
	placeholder := func() {
		n++
		if d == Postgres {
			out.WriteByte('$')
			out.WriteString(strconv.Itoa(n))
		} else {
			out.WriteByte('?')
		}
	}
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(sql, i, d == MySQL)
			out.WriteString(sql[i:j])
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			out.WriteString(sql[i : i+j])
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			end := len(sql)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			out.WriteString(sql[i:end])
			i = end
		case c == '{':
			j := i + 1
			for j < len(sql) && (sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= '0' && sql[j] <= '9' || sql[j] == '_') {
				j++
			}
			if j < len(sql) && sql[j] == '}' && j > i+1 {
				out.WriteString(prefix)
				out.WriteString(sql[i+1 : j])
				i = j + 1
			} else {
				out.WriteByte(c)
				i++
			}
		case c == '?':
			if argi >= len(args) {
				return "", nil, fmt.Errorf("sql has more ? placeholders than the %d arguments given", len(args))
			}
			a := args[argi]
			argi++
			if elems, ok := sliceElems(a); ok {
				if len(elems) == 0 {
					out.WriteString("NULL")
				}
				for k, e := range elems {
					if k > 0 {
						out.WriteString(", ")
					}
					placeholder()
					flat = append(flat, e)
				}
			} else {
				placeholder()
				flat = append(flat, a)
			}
			i++
		default:
			out.WriteByte(c)
			i++
		}
	}
	if argi != len(args) {
		return "", nil, fmt.Errorf("sql has %d ? placeholders but %d arguments were given", argi, len(args))
	}
	return out.String(), flat, nil
}

// skipQuoted returns the index just past the quoted section starting at i. A doubled quote
// stays inside; on MySQL a backslash escapes the next character in string literals.
func skipQuoted(s string, i int, backslash bool) int {
	q := s[i]
	j := i + 1
	for j < len(s) {
		switch {
		case backslash && q != '`' && s[j] == '\\':
			j += 2
			continue
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(s)
}

func sliceElems(a any) ([]any, bool) {
	if a == nil {
		return nil, false
	}
	if _, ok := a.([]byte); ok {
		return nil, false
	}
	v := reflect.ValueOf(a)
	if v.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]any, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface()
	}
	return out, true
}
