package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The cost rules, checked on the planners' own plans over a loaded, analysed site. A "full scan"
// reads a whole table (MariaDB type ALL, PostgreSQL Seq Scan) or a whole index (MariaDB type
// index, a PostgreSQL index scan with no index condition). A full scan is "unbounded" when no
// index could have served it: on PostgreSQL the table is still read whole with sequential scans
// disabled; on MariaDB possible_keys is empty. Otherwise the planner chose the scan on this data.
//
//  1. Every family: logstore_standard_log is never read by an unbounded full scan.
//  2. Instant and hourly: logstore_standard_log is not read whole at all, even by the planner's
//     choice: a minute-to-hour window is what its timecreated index serves.
//  3. Instant and hourly: no unbounded full scan of a table that grows with the site's history
//     (activityTables), whatever its size in the fixture.
//  4. Instant: no unbounded full scan of any large table (largeRows rows or more in the fixture,
//     user included): a per-minute count must be served by an index.
//
// What the rules let through is reported, not failed: full scans the planner chose although an
// index was usable (FLAG; they come from the fixture's data distribution and would become index
// reads on a bigger site), hourly scans of large population tables (FLAG), and daily, weekly or
// monthly log scans chosen by the planner (NOTE; the fixture puts 45% of its log rows in the last
// 30 days, so a month window is a large share of the log).

// logTable is the table the rule is about.
const logTable = "logstore_standard_log"

// activityTables grow with the site's history, not its population: a per-minute full scan of
// any of them gets slower every day.
var activityTables = map[string]bool{
	logTable:                    true,
	"task_log":                  true,
	"sessions":                  true,
	"forum_posts":               true,
	"forum_discussions":         true,
	"quiz_attempts":             true,
	"assign_submission":         true,
	"assign_grades":             true,
	"grade_grades":              true,
	"course_modules_completion": true,
	"course_completions":        true,
	"files":                     true,
	"backup_controllers":        true,
	"local_advancedperfs_slowp": true,
	"user_lastaccess":           true,
	"message":                   true,
	"notifications":             true,
	"event":                     true,
}

// largeRows is the row count from which a table of the cost site counts as large in reports.
const largeRows = 5000

// costQuery is one statement as the runner would send it.
type costQuery struct {
	family measures.Family
	name   string // query name, with #n for the n-th statement of a computed query
	keys   []string
	moodle string // Moodle-style SQL, before expansion
	sql    string // expanded SQL
	args   []any  // flattened arguments
	note   string // why the statement is not explained, when it is not
}

// access is how a plan reads one table.
type access struct {
	table   string // table name without prefix; "" for derived tables and subquery results
	alias   string
	method  string // MariaDB access type or PostgreSQL node type
	index   string
	rows    float64
	full    bool // the whole table or the whole index is read
	cond    string
	usable  bool // an index could serve the access (see the cost rules)
	derived bool
}

// finding is a verdict on one statement.
type finding struct {
	access int    // index of the access judged
	level  string // FAIL, FLAG or NOTE
	text   string
}

// envCostSize set to "large" runs TestQueryCost on fixture.Large (2 million log rows) instead
// of the 200k-row cost site.
const envCostSize = "MZ_COST_SIZE"

// TestQueryCost explains every instant and hourly statement and every log statement of the
// catalogue on MariaDB and PostgreSQL and applies the cost rules above.
func TestQueryCost(t *testing.T) {
	size := costSite
	if os.Getenv(envCostSize) == "large" {
		size = largeSite
	}
	for _, d := range []measures.Dialect{measures.MySQL, measures.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			s := site(t, d, size)
			checkCost(t, s)
		})
	}
}

func checkCost(t *testing.T, s *loadedSite) {
	ctx := context.Background()
	reg := catalogue.Registry()
	counts := s.model.RowCounts()
	site := s.newSite()
	var all []costQuery
	for _, f := range measures.Families {
		qs, err := collectQueries(ctx, reg, site, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, q := range qs {
			if f == measures.Instant || f == measures.Hourly || readsLog(q.sql) || q.note != "" && strings.Contains(q.moodle, "{"+logTable+"}") {
				all = append(all, q)
			}
		}
	}
	if len(all) == 0 {
		t.Fatal("no query collected: the catalogue is empty?")
	}

	var out strings.Builder
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "family\tquery\ttable\taccess\tindex\test.rows\tverdict\n")
	fails, flags := 0, 0
	for _, q := range all {
		if q.note == "" && isExplain(q.sql) {
			q.note = "the statement is itself an EXPLAIN (a row estimate): it reads no rows"
		}
		if q.note != "" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\tNOTE %s\n", q.family, q.name, q.note)
			continue
		}
		acc, err := explain(ctx, s, q)
		if err != nil {
			t.Errorf("%s %s (%s): explain: %v\nSQL: %s", q.family, q.name, strings.Join(q.keys, ", "), err, q.sql)
			continue
		}
		verdicts := make([][]string, len(acc))
		for _, fd := range judge(q, acc, counts) {
			verdicts[fd.access] = append(verdicts[fd.access], fd.level)
			switch fd.level {
			case "FAIL":
				fails++
				t.Errorf("%s query %s (keys %s): %s\nSQL: %s\nargs: %v\nplan:%s",
					q.family, q.name, strings.Join(q.keys, ", "), fd.text, q.sql, q.args, planText(acc))
			case "FLAG":
				flags++
				t.Logf("FLAG %s query %s (keys %s): %s\nSQL: %s\nplan:%s",
					q.family, q.name, strings.Join(q.keys, ", "), fd.text, q.sql, planText(acc))
			}
		}
		for i, a := range acc {
			v := "ok"
			if len(verdicts[i]) > 0 {
				v = strings.Join(verdicts[i], ",")
			}
			table := a.table
			if table == "" {
				table = a.alias
			}
			method := a.method
			if a.full && !a.derived {
				if a.usable {
					method += " [index usable]"
				} else {
					method += " [no usable index]"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f\t%s\n", q.family, q.name, orDash(table), method, orDash(a.index), a.rows, v)
		}
	}
	tw.Flush()
	t.Logf("query plans on %s (%d statements; rows: log %d, user %d, files %d; FAIL %d, FLAG %d):\n%s",
		s.dialect, len(all), counts[logTable], counts["user"], counts["files"], fails, flags, out.String())
}

func isExplain(sql string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sql)), "EXPLAIN")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func readsLog(sql string) bool {
	return strings.Contains(sql, fixture.DefaultPrefix+logTable)
}

// judge applies the cost rules to one statement's plan.
func judge(q costQuery, acc []access, counts map[string]int) []finding {
	var out []finding
	short := q.family == measures.Instant || q.family == measures.Hourly
	for i, a := range acc {
		if !a.full || a.derived {
			continue
		}
		growing := activityTables[a.table]
		large := growing || counts[a.table] >= largeRows
		how := a.method + ", index usable"
		if !a.usable {
			how = a.method + ", no usable index"
		}
		what := fmt.Sprintf("full scan of %s (%d rows; %s) in the %s family", a.table, counts[a.table], how, q.family)
		switch {
		case a.table == logTable && !a.usable:
			out = append(out, finding{i, "FAIL", "rule 1: " + what})
		case a.table == logTable && short:
			out = append(out, finding{i, "FAIL", "rule 2: " + what})
		case a.table == logTable:
			out = append(out, finding{i, "NOTE", "planner's choice: " + what})
		case !large || !short:
		case growing && !a.usable:
			out = append(out, finding{i, "FAIL", "rule 3: " + what})
		case q.family == measures.Instant && !a.usable:
			out = append(out, finding{i, "FAIL", "rule 4: " + what})
		default:
			out = append(out, finding{i, "FLAG", what})
		}
	}
	return out
}

func planText(acc []access) string {
	var b strings.Builder
	for i, a := range acc {
		fmt.Fprintf(&b, "\n  [%d] table=%s alias=%s access=%s index=%s rows=%.0f full=%v", i, a.table, a.alias, a.method, orDash(a.index), a.rows, a.full)
		if a.cond != "" {
			fmt.Fprintf(&b, " cond=%s", a.cond)
		}
	}
	return b.String()
}

// collectQueries builds every statement family f would run on site, with its arguments,
// mirroring measures.Runner: the family's measures grouped by query, and the discovery rules of
// the family or of its prototypes. Computed queries are run against the database through a
// recording Querier, and each statement they send is collected.
func collectQueries(ctx context.Context, reg *measures.Registry, site *measures.Site, f measures.Family) ([]costQuery, error) {
	w := measures.WindowFor(f, benchNow, site.Location)
	p := measures.Params{Window: w, Now: benchNow, Roles: measures.DefaultRoles(), Courses: site.Courses}
	plugins, err := installedPlugins(ctx, site)
	if err != nil {
		return nil, err
	}
	type group struct {
		q    *measures.Query
		keys []string
	}
	var groups []*group
	byQuery := map[*measures.Query]*group{}
	add := func(q *measures.Query, key string) {
		g := byQuery[q]
		if g == nil {
			g = &group{q: q}
			byQuery[q] = g
			groups = append(groups, g)
		}
		g.keys = append(g.keys, key)
	}
	ms := reg.Family(f)
	for _, d := range reg.Discoveries() {
		need := d.Family == f
		for _, m := range ms {
			need = need || m.Discovery == d
		}
		if need {
			add(d.Query, d.Key)
		}
	}
	for _, m := range ms {
		add(m.Query, m.Key)
	}

	var out []costQuery
	for _, g := range groups {
		q := g.q
		base := costQuery{family: f, name: q.Name, keys: g.keys, moodle: q.SQLFor(site.Dialect)}
		if q.Skip != nil {
			if reason := q.Skip(p); reason != "" {
				base.note = "skipped by the runner: " + reason
				out = append(out, base)
				continue
			}
		}
		if q.Component != "" && !plugins[q.Component] {
			base.note = "plugin " + q.Component + " not installed"
			out = append(out, base)
			continue
		}
		if q.Compute != nil {
			rec := &recorder{site: site}
			if _, err := q.Compute(ctx, rec, p); err != nil {
				return nil, fmt.Errorf("computed query %s: %w", q.Name, err)
			}
			if len(rec.stmts) == 0 {
				base.note = "computed in Go without SQL"
				out = append(out, base)
			}
			for i, st := range rec.stmts {
				cq := base
				cq.name = fmt.Sprintf("%s#%d", q.Name, i+1)
				cq.moodle = st.moodle
				cq.sql, cq.args = st.sql, st.args
				out = append(out, cq)
			}
			continue
		}
		var args []any
		if q.Args != nil {
			args = q.Args(p)
		}
		text, flat, err := site.Dialect.Expand(base.moodle, site.Prefix, args)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		base.sql, base.args = text, flat
		out = append(out, base)
	}
	return out, nil
}

func installedPlugins(ctx context.Context, site *measures.Site) (map[string]bool, error) {
	rec := &recorder{site: site}
	rows, err := rec.Query(ctx, "SELECT plugin FROM {config_plugins} WHERE name = ?", "version")
	if err != nil {
		return nil, fmt.Errorf("installed plugins: %w", err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		out[fmt.Sprint(r["plugin"])] = true
	}
	return out, nil
}

// recorder is a measures.Querier that runs each statement on the site's database and records
// it, so that the statements of computed queries can be explained.
type recorder struct {
	site  *measures.Site
	stmts []recorded
}

type recorded struct {
	moodle string
	sql    string
	args   []any
}

// Query expands, records and runs one statement, returning rows as the runner does.
func (r *recorder) Query(ctx context.Context, query string, args ...any) ([]measures.Row, error) {
	text, flat, err := r.site.Dialect.Expand(query, r.site.Prefix, args)
	if err != nil {
		return nil, err
	}
	r.stmts = append(r.stmts, recorded{moodle: query, sql: text, args: flat})
	rows, err := r.site.DB.QueryContext(ctx, text, flat...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	dest := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	var out []measures.Row
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := measures.Row{}
		for i, c := range cols {
			if dest[i].Valid {
				row[strings.ToLower(c)] = dest[i].String
			} else {
				row[strings.ToLower(c)] = nil
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func explain(ctx context.Context, s *loadedSite, q costQuery) ([]access, error) {
	switch s.dialect {
	case measures.MySQL:
		return explainMySQL(ctx, s.db, q)
	case measures.Postgres:
		acc, err := explainPostgres(ctx, s.db, q, false)
		if err != nil {
			return nil, err
		}
		forced, err := explainPostgres(ctx, s.db, q, true)
		if err != nil {
			return nil, fmt.Errorf("with enable_seqscan=off: %w", err)
		}
		for i := range acc {
			acc[i].usable = true
			for _, f := range forced {
				if f.full && f.table == acc[i].table && f.alias == acc[i].alias {
					acc[i].usable = false
				}
			}
		}
		return acc, nil
	}
	return nil, fmt.Errorf("no EXPLAIN for %s", s.dialect)
}

// tableRef finds "{table} alias" in Moodle-style SQL.
var tableRef = regexp.MustCompile(`\{([a-z0-9_]+)\}(?:\s+(?:(?i:AS)\s+)?([A-Za-z_][A-Za-z0-9_]*))?`)

var sqlWords = map[string]bool{
	"where": true, "join": true, "on": true, "group": true, "order": true, "left": true, "right": true,
	"inner": true, "outer": true, "cross": true, "full": true, "natural": true, "union": true, "limit": true,
	"having": true, "using": true, "set": true, "and": true, "or": true, "window": true, "except": true,
	"intersect": true, "for": true, "straight_join": true, "use": true, "force": true, "ignore": true,
}

// aliases maps each alias (and each prefixed table name) of a Moodle-style statement to its
// tables; one alias may name different tables in different subqueries.
func aliases(moodle string) map[string][]string {
	out := map[string][]string{}
	addUnique := func(k, v string) {
		for _, x := range out[k] {
			if x == v {
				return
			}
		}
		out[k] = append(out[k], v)
	}
	for _, m := range tableRef.FindAllStringSubmatch(moodle, -1) {
		addUnique(fixture.DefaultPrefix+m[1], m[1])
		if m[2] != "" && !sqlWords[strings.ToLower(m[2])] {
			addUnique(m[2], m[1])
		}
	}
	return out
}

// explainMySQL runs plain EXPLAIN and reads one access per row.
func explainMySQL(ctx context.Context, db *sql.DB, q costQuery) ([]access, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN "+q.sql, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	al := aliases(q.moodle)
	var out []access
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		col := map[string]string{}
		for i, c := range cols {
			col[strings.ToLower(c)] = vals[i].String
		}
		a := access{alias: col["table"], method: col["type"], index: col["key"], cond: col["extra"]}
		a.rows, _ = strconv.ParseFloat(col["rows"], 64)
		a.usable = col["possible_keys"] != ""
		a.derived = strings.HasPrefix(a.alias, "<")
		if ts := al[a.alias]; len(ts) > 0 {
			a.table = strings.Join(ts, "|")
		}
		a.full = a.method == "ALL" || a.method == "index"
		if a.method == "index" {
			a.method = "index (full)"
		}
		if a.alias == "" && a.method == "" {
			a.method = "none: " + col["extra"] // "Impossible WHERE", "No tables used"...
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// An ambiguous alias (one name for several tables) counts as the log when one of them is.
	for i := range out {
		if strings.Contains(out[i].table, "|") {
			for _, t := range strings.Split(out[i].table, "|") {
				if t == logTable {
					out[i].table = logTable + " (alias " + out[i].alias + " is ambiguous)"
				}
			}
		}
	}
	return out, nil
}

// pgNode is one node of a PostgreSQL JSON plan.
type pgNode struct {
	NodeType     string   `json:"Node Type"`
	RelationName string   `json:"Relation Name"`
	Alias        string   `json:"Alias"`
	IndexName    string   `json:"Index Name"`
	IndexCond    string   `json:"Index Cond"`
	RecheckCond  string   `json:"Recheck Cond"`
	Filter       string   `json:"Filter"`
	PlanRows     float64  `json:"Plan Rows"`
	Plans        []pgNode `json:"Plans"`
}

// explainPostgres runs EXPLAIN (FORMAT JSON) and reads one access per scan node. With
// noSeqScan, sequential scans are disabled for the statement, which shows whether any index
// can serve it at all.
func explainPostgres(ctx context.Context, db *sql.DB, q costQuery, noSeqScan bool) ([]access, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if noSeqScan {
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			return nil, err
		}
		defer conn.ExecContext(context.Background(), "RESET enable_seqscan") //nolint:errcheck // the connection is closed next
	}
	var js string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&js); err != nil {
		return nil, err
	}
	var plans []struct {
		Plan pgNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(js), &plans); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	var out []access
	var walk func(n pgNode)
	walk = func(n pgNode) {
		if n.RelationName != "" {
			a := access{table: strings.TrimPrefix(n.RelationName, fixture.DefaultPrefix), alias: n.Alias, method: n.NodeType,
				index: n.IndexName, rows: n.PlanRows, cond: n.IndexCond}
			switch n.NodeType {
			case "Seq Scan":
				a.full = true
				a.cond = n.Filter
			case "Index Scan", "Index Only Scan":
				a.full = n.IndexCond == ""
				if a.full {
					a.method += " (full)"
				}
			case "Bitmap Heap Scan":
				a.cond = n.RecheckCond
				var idx []string
				for _, c := range n.Plans {
					collectIndexes(c, &idx)
				}
				a.index = strings.Join(idx, "+")
			}
			out = append(out, a)
		}
		for _, c := range n.Plans {
			if n.NodeType == "Bitmap Heap Scan" {
				continue // its bitmap index scans are reported on the heap scan
			}
			walk(c)
		}
	}
	for _, p := range plans {
		walk(p.Plan)
	}
	if len(out) == 0 {
		out = append(out, access{method: "no table read", derived: true})
	}
	return out, nil
}

func collectIndexes(n pgNode, idx *[]string) {
	if n.IndexName != "" {
		*idx = append(*idx, n.IndexName)
	}
	for _, c := range n.Plans {
		collectIndexes(c, idx)
	}
}

// TestAliases checks the alias mapping that names MariaDB plan rows.
func TestAliases(t *testing.T) {
	tests := []struct {
		sql  string
		want map[string][]string
	}{
		{"SELECT 1 FROM {user} u JOIN {logstore_standard_log} AS l ON l.userid = u.id WHERE u.deleted = 0",
			map[string][]string{"mdl_user": {"user"}, "u": {"user"}, "mdl_logstore_standard_log": {logTable}, "l": {logTable}}},
		{"SELECT COUNT(*) FROM {course} WHERE id > 1", map[string][]string{"mdl_course": {"course"}}},
		{"SELECT 1 FROM {user} x UNION SELECT 1 FROM {course} x", map[string][]string{"mdl_user": {"user"}, "mdl_course": {"course"}, "x": {"user", "course"}}},
	}
	for _, tt := range tests {
		got := aliases(tt.sql)
		keys := func(m map[string][]string) string {
			var ks []string
			for k, v := range m {
				ks = append(ks, k+"="+strings.Join(v, "|"))
			}
			sort.Strings(ks)
			return strings.Join(ks, " ")
		}
		if keys(got) != keys(tt.want) {
			t.Errorf("aliases(%q) = %s, want %s", tt.sql, keys(got), keys(tt.want))
		}
	}
}
