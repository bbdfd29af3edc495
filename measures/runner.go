package measures

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Site is one Moodle database that the runner measures.
type Site struct {
	// Name identifies the site in logs and errors.
	Name string
	// Host is the site's Zabbix host name.
	Host    string
	DB      *sql.DB
	Dialect Dialect
	// Prefix is Moodle's table prefix (mdl_ by default in Moodle).
	Prefix string
	// Location is the site's time zone, which sets the calendar windows (UTC when nil).
	Location *time.Location
	// Roles maps student, teacher and staff to roles (DefaultRoles when empty).
	Roles RoleMap
	// Courses are the courses of interest for targeted collection.
	Courses CourseSelection
	// MeasureTimeout bounds each query on the client side (30 s when zero).
	MeasureTimeout time.Duration
	// StatementTimeout is the server-side statement limit set on the session, where the engine
	// has one (MariaDB max_statement_time, MySQL MAX_EXECUTION_TIME, PostgreSQL
	// statement_timeout). Zero sets none.
	StatementTimeout time.Duration
	// Dirroot and Dataroot are Moodle's code and data directories, when the site configures them.
	Dirroot  string
	Dataroot string
	// Previous returns how the previous run of a family went (nil: unknown).
	Previous func(Family) *RunRecord
	// Disabled lists measure keys not to collect.
	Disabled map[string]bool
	// KThreshold is the smallest population a discovered entity must have to be reported on
	// its own (DefaultKThreshold when 0; 1 reports every entity).
	KThreshold int
	// Caps overrides the cap of discovery rules, by rule key.
	Caps map[string]int
	// CategoryDepth is the deepest category level the category discovery segments by (1 when 0).
	CategoryDepth int
	// Memo keeps what incremental queries counted between the site's bursts (nil: every query
	// counts everything each time). A backfill (Runner.PastPeriod) does not use it.
	Memo Memo
	// ReuseSessions gives each burst's connection back to DB's pool when the burst ends, still
	// read-only and time-limited, instead of closing it, so that the next burst does not
	// connect again (on a busy server, connecting costs more than an instant burst's queries).
	// Set it only when DB serves the runner alone, as the program's own pools do: a connection
	// from the pool may then be read-only.
	ReuseSessions bool
	// SessionsPrepared says that every connection of DB was made read-only and time-limited
	// when it was opened (OpenPool), so a burst neither checks nor sets up its connection: the
	// pool has checked it, and its set-up lasts as long as the connection.
	SessionsPrepared bool
}

// DefaultMeasureTimeout bounds one query when the site sets no timeout.
const DefaultMeasureTimeout = 30 * time.Second

// Runner executes a family of measures for a site: one query per measure or per shared query,
// never one per entity. A failing query fails only the measures that read it.
type Runner struct {
	Registry *Registry
	// Logger receives one debug line per failure (slog.Default when nil); the burst carries
	// the failures for the caller to report, each distinct error once.
	Logger *slog.Logger
	// DeferRunReports leaves the measures of RunReport queries out of Run, for a caller that
	// sends them with RunReport after delivering the burst, so they describe that burst.
	DeferRunReports bool
	// PastPeriod computes a past period for a backfill: measures whose query does not depend
	// on the window (they describe the site as it is now) are skipped, since stamping today's
	// state with a past clock would rewrite history.
	PastPeriod bool
}

// Burst is the outcome of one run of a family for a site.
type Burst struct {
	Site     string
	Host     string
	Family   Family
	Window   Window
	Values   []Value
	Failures []Failure
	Skipped  []Skip
	Started  time.Time
	Duration time.Duration
	// Unreachable is set when the database could not be reached at all during the burst.
	Unreachable error
	// Governance reports, for each discovery rule that ran, what the k-threshold and the cap
	// kept out.
	Governance []RuleGovernance
}

// Failure is a query that failed, with the keys it would have filled.
type Failure struct {
	Query string
	Keys  []string
	Err   error
}

// Error describes the failure with its keys.
func (f Failure) Error() string {
	return fmt.Sprintf("query %s (%s): %v", f.Query, strings.Join(f.Keys, ", "), f.Err)
}

// Unwrap returns the underlying error.
func (f Failure) Unwrap() error { return f.Err }

// Skip is a measure left out on purpose, with the reason.
type Skip struct {
	Key    string
	Reason string
}

// Err joins the burst's failures into one error, or nil when every query succeeded.
func (b *Burst) Err() error {
	errs := make([]error, len(b.Failures))
	for i, f := range b.Failures {
		errs[i] = f
	}
	return errors.Join(errs...)
}

// FailedKeys counts the keys whose value could not be computed.
func (b *Burst) FailedKeys() int {
	n := 0
	for _, f := range b.Failures {
		n += len(f.Keys)
	}
	return n
}

var safeMacroValue = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,128}$`)

// Run executes family f for site at time now and returns every value computed, stamped at the
// end of the family's window. It never stops at a failing query: failures are collected in the
// burst and logged with their keys.
func (r *Runner) Run(ctx context.Context, site *Site, f Family, now time.Time) *Burst {
	br := &burstRun{log: r.Logger, site: site, sess: &session{site: site},
		entities: map[*Discovery][]Row{}, folded: map[*Discovery]map[string]bool{}, raw: map[*Discovery][]Row{},
		failedRules: map[*Discovery]error{}}
	if br.log == nil {
		br.log = slog.Default()
	}
	b := &Burst{Site: site.Name, Host: site.Host, Family: f, Started: time.Now(), Window: WindowFor(f, now, site.Location)}
	br.b = b
	defer func() {
		b.Unreachable = br.sess.connErr
		br.sess.close()
		b.Duration = time.Since(b.Started)
	}()
	br.p = Params{Window: b.Window, Now: now, Roles: site.Roles, Courses: site.Courses, Dirroot: site.Dirroot, Dataroot: site.Dataroot,
		CategoryDepth: site.CategoryDepth}
	if !r.PastPeriod {
		br.p.Memo = site.Memo
	}
	if site.Previous != nil {
		br.p.Previous = site.Previous(f)
	}
	if isZeroRoles(br.p.Roles) {
		br.p.Roles = DefaultRoles()
	}

	var ms []*Measure
	for _, m := range r.Registry.Family(f) {
		if r.DeferRunReports && m.Query.RunReport {
			continue
		}
		if r.PastPeriod && !m.Query.DependsOnWindow() {
			b.Skipped = append(b.Skipped, Skip{Key: m.Key, Reason: "describes the present, not a past period"})
			continue
		}
		if site.Disabled[m.Key] {
			b.Skipped = append(b.Skipped, Skip{Key: m.Key, Reason: "disabled in the configuration"})
			continue
		}
		ms = append(ms, m)
	}
	// A rule runs in its own family (its LLD JSON is sent then) and in every family that has
	// prototypes of it (their values are filled for each discovered entity).
	var rules []*Discovery
	for _, d := range r.Registry.Discoveries() {
		need := d.Family == f
		for _, m := range ms {
			need = need || m.Discovery == d
		}
		if need && !site.Disabled[d.Key] {
			rules = append(rules, d)
		}
	}
	br.prototypes = map[*Discovery]int{}
	for _, m := range r.Registry.Measures() {
		if m.Discovery != nil {
			br.prototypes[m.Discovery]++
		}
	}
	br.plugins, br.pluginsErr = br.installedPlugins(ctx, rules, ms)
	for _, d := range rules {
		br.discover(ctx, d)
	}
	for _, g := range groupByQuery(ms) {
		br.measure(ctx, g)
	}
	return b
}

// burstRun is the state of one Run.
type burstRun struct {
	log         *slog.Logger
	site        *Site
	sess        *session
	b           *Burst
	p           Params
	plugins     map[string]bool
	pluginsErr  error
	entities    map[*Discovery][]Row           // rows of each rule that ran, once governed
	raw         map[*Discovery][]Row           // rows of each rule that ran, as its query returned them
	folded      map[*Discovery]map[string]bool // entities of each rule folded into OtherID
	prototypes  map[*Discovery]int             // item prototypes of each rule in the registry
	failedRules map[*Discovery]error           // rules that failed or were skipped, with why
}

// fail records a failed query with the keys it would have filled.
func (br *burstRun) fail(q *Query, keys []string, err error) {
	br.b.Failures = append(br.b.Failures, Failure{Query: q.Name, Keys: keys, Err: err})
	br.log.Debug("measure query failed", "site", br.site.Name, "family", br.b.Family.String(), "query", q.Name,
		"keys", strings.Join(keys, ","), "err", err)
}

// skip records keys left out on purpose.
func (br *burstRun) skip(keys []string, reason string) {
	for _, k := range keys {
		br.b.Skipped = append(br.b.Skipped, Skip{Key: k, Reason: reason})
	}
}

// skipReason says why q must not run on this site (its Skip hook, or a missing plugin), or
// returns an error when the installed plugins could not be read.
func (br *burstRun) skipReason(q *Query) (string, error) {
	if q.Skip != nil {
		if reason := q.Skip(br.p); reason != "" {
			return reason, nil
		}
	}
	if q.Component == "" {
		return "", nil
	}
	if br.pluginsErr != nil {
		return "", fmt.Errorf("cannot tell whether plugin %s is installed: %w", q.Component, br.pluginsErr)
	}
	if !br.plugins[q.Component] {
		return "plugin " + q.Component + " is not installed", nil
	}
	return "", nil
}

// discover runs a discovery rule; in the rule's own family it also emits the LLD JSON.
func (br *burstRun) discover(ctx context.Context, d *Discovery) {
	keys := []string{d.Key}
	reason, err := br.skipReason(d.Query)
	switch {
	case err != nil:
		br.fail(d.Query, keys, err)
		br.failedRules[d] = err
		return
	case reason != "":
		br.skip(keys, reason)
		br.failedRules[d] = errors.New(reason)
		return
	}
	rows, err := br.sess.run(ctx, d.Query, br.p)
	if err != nil {
		br.fail(d.Query, keys, err)
		br.failedRules[d] = fmt.Errorf("discovery %s failed", d.Key)
		return
	}
	kept, folded, gov, err := govern(d, rows, capFor(br.site, d), kFor(br.site), br.prototypes[d])
	if err != nil {
		br.fail(d.Query, keys, err)
		br.failedRules[d] = fmt.Errorf("discovery %s failed", d.Key)
		return
	}
	br.raw[d], br.entities[d], br.folded[d] = rows, kept, folded
	br.b.Governance = append(br.b.Governance, gov)
	if d.Family != br.b.Family {
		return
	}
	if len(gov.Capped) > 0 {
		br.log.Warn("discovery rule over its cap", "site", br.site.Name, "rule", d.Key, "entities", gov.Found,
			"cap", gov.Cap, "items", gov.Items(), "items_allowed", (gov.Cap+1)*gov.Prototypes,
			"folded_into", OtherID)
	}
	js, err := LLDJSON(d, kept)
	if err != nil {
		br.fail(d.Query, keys, err)
		return
	}
	br.b.Values = append(br.b.Values, Value{Key: d.Key, Value: js, Clock: br.b.Window.Clock(), Discovery: true})
}

// measure runs the query shared by the measures of g and turns its rows into values.
func (br *burstRun) measure(ctx context.Context, g []*Measure) {
	q, d, keys := g[0].Query, g[0].Discovery, keysOf(g)
	reason, err := br.skipReason(q)
	if err == nil && reason == "" && d != nil {
		if why, bad := br.failedRules[d]; bad {
			reason = why.Error()
		}
	}
	switch {
	case err != nil:
		br.fail(q, keys, err)
		return
	case reason != "":
		br.skip(keys, reason)
		return
	}
	var rows []Row
	if d != nil && q == d.Query {
		rows = br.raw[d] // the prototypes read the rule's own query: it ran already
	} else if rows, err = br.sess.run(ctx, q, br.p); err != nil {
		br.fail(q, keys, err)
		return
	}
	var vals []Value
	if d != nil {
		vals, err = prototypeValues(g, d, br.entities[d], br.folded[d], rows, br.b.Window.Clock())
	} else {
		vals, err = scalarValues(g, rows, br.b.Window.Clock())
	}
	if err != nil {
		br.fail(q, keys, err)
		return
	}
	br.b.Values = append(br.b.Values, vals...)
}

func isZeroRoles(m RoleMap) bool {
	empty := func(s RoleSet) bool { return len(s.Archetypes) == 0 && len(s.Shortnames) == 0 }
	return empty(m.Students) && empty(m.Teachers) && empty(m.Staff)
}

// groupByQuery groups measures by their query, in first-appearance order.
func groupByQuery(ms []*Measure) [][]*Measure {
	idx := map[*Query]int{}
	var groups [][]*Measure
	for _, m := range ms {
		i, ok := idx[m.Query]
		if !ok {
			i = len(groups)
			idx[m.Query] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], m)
	}
	return groups
}

func keysOf(ms []*Measure) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Key
	}
	return out
}

func scalarValues(ms []*Measure, rows []Row, clock time.Time) ([]Value, error) {
	if len(rows) > 1 {
		return nil, fmt.Errorf("query returned %d rows, want one", len(rows))
	}
	var row Row
	if len(rows) == 1 {
		row = rows[0]
	}
	out := make([]Value, 0, len(ms))
	for _, m := range ms {
		var raw any
		if row != nil {
			v, ok := row[m.Column]
			if !ok {
				return nil, fmt.Errorf("measure %s: column %q is not in the result", m.Key, m.Column)
			}
			raw = v
		}
		s, err := FormatValue(m.Type, raw)
		if err != nil {
			return nil, fmt.Errorf("measure %s: %w", m.Key, err)
		}
		out = append(out, Value{Key: m.Key, Value: s, Clock: clock})
	}
	return out, nil
}

func prototypeValues(ms []*Measure, d *Discovery, entities []Row, folded map[string]bool, rows []Row, clock time.Time) ([]Value, error) {
	idCol := d.IDMacro().Column
	byID := make(map[string]Row, len(rows))
	for _, row := range rows {
		id, ok := row[idCol]
		if !ok {
			return nil, fmt.Errorf("grouped query has no entity column %q", idCol)
		}
		byID[macroText(id)] = row
	}
	var out []Value
	for _, e := range entities {
		row := byID[macroText(e[idCol])]
		for _, m := range ms {
			key, err := expandKey(m.Key, d, e)
			if err != nil {
				return nil, fmt.Errorf("measure %s: %w", m.Key, err)
			}
			s := zeroValue(m.Type)
			if macroText(e[idCol]) == OtherID && len(folded) > 0 {
				f, err := otherValue(m, idCol, rows, folded)
				if err != nil {
					return nil, fmt.Errorf("measure %s: %w", m.Key, err)
				}
				if s, err = FormatValue(m.Type, f); err != nil {
					return nil, fmt.Errorf("measure %s: %w", key, err)
				}
			} else if row != nil {
				v, ok := row[m.Column]
				if !ok {
					return nil, fmt.Errorf("measure %s: column %q is not in the result", m.Key, m.Column)
				}
				if s, err = FormatValue(m.Type, v); err != nil {
					return nil, fmt.Errorf("measure %s: %w", key, err)
				}
			}
			out = append(out, Value{Key: key, Value: s, Clock: clock, Prototype: true})
		}
	}
	return out, nil
}

// expandKey substitutes an entity's macro values into a prototype key, as Zabbix does when it
// creates the discovered item. Only plain identifiers are accepted inside keys.
func expandKey(key string, d *Discovery, entity Row) (string, error) {
	for _, mac := range d.Macros {
		if !strings.Contains(key, mac.Macro) {
			continue
		}
		v := macroText(entity[mac.Column])
		if !safeMacroValue.MatchString(v) {
			return "", fmt.Errorf("macro %s value %q cannot be used in an item key", mac.Macro, v)
		}
		key = strings.ReplaceAll(key, mac.Macro, v)
	}
	return key, nil
}

func macroText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// LLDJSON encodes discovery rows as the JSON array a trapper discovery rule accepts, one object
// per row with the rule's macros as members.
func LLDJSON(d *Discovery, rows []Row) (string, error) {
	objs := make([]map[string]string, 0, len(rows))
	for _, row := range rows {
		o := make(map[string]string, len(d.Macros))
		for _, mac := range d.Macros {
			v, ok := row[mac.Column]
			if !ok {
				return "", fmt.Errorf("discovery %s: column %q is not in the result", d.Key, mac.Column)
			}
			o[mac.Macro] = strings.ToValidUTF8(macroText(v), "\uFFFD")
		}
		objs = append(objs, o)
	}
	js, err := json.Marshal(objs)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", d.Key, err)
	}
	return string(js), nil
}

// installedPlugins reads the installed plugins once per burst, only when a query needs one.
func (br *burstRun) installedPlugins(ctx context.Context, rules []*Discovery, ms []*Measure) (map[string]bool, error) {
	need := false
	for _, d := range rules {
		need = need || d.Query.Component != ""
	}
	for _, m := range ms {
		need = need || m.Query.Component != ""
	}
	if !need {
		return nil, nil
	}
	// Bounded like any measure query: this is often the burst's first statement, and a
	// database that accepts connections but never answers must not hold the burst forever.
	ctx, cancel := context.WithTimeout(ctx, br.sess.timeout(nil))
	defer cancel()
	rows, err := br.sess.Query(ctx, "SELECT plugin FROM {config_plugins} WHERE name = ?", "version")
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(rows))
	for _, row := range rows {
		out[macroText(row["plugin"])] = true
	}
	return out, nil
}

// timeout is the client-side limit for q (the site's measure timeout unless q sets its own);
// q may be nil for the burst's own statements.
func (s *session) timeout(q *Query) time.Duration {
	if q != nil && q.Timeout > 0 {
		return q.Timeout
	}
	if s.site.MeasureTimeout > 0 {
		return s.site.MeasureTimeout
	}
	return DefaultMeasureTimeout
}

// run executes q (its SQL for the site's dialect, its Compute function, or its Incremental one
// when the run has a memo) within its timeout.
func (s *session) run(ctx context.Context, q *Query, p Params) (rows []Row, err error) {
	timeout := s.timeout(q)
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("query %s panicked: %v", q.Name, rec)
		}
	}()
	switch {
	case q.Incremental != nil && p.Memo != nil:
		rows, err = q.Incremental(qctx, s, p)
	case q.Compute != nil:
		rows, err = q.Compute(qctx, s, p)
	default:
		var args []any
		if q.Args != nil {
			args = q.Args(p)
		}
		rows, err = s.Query(qctx, q.SQLFor(s.site.Dialect), args...)
	}
	if err != nil && qctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return rows, err
}

// session is one read-only connection used for a burst. When the connection breaks, the next
// query opens a new one, so a dropped connection fails only the queries that were using it.
type session struct {
	site *Site
	conn *sql.Conn
	// connErr remembers that the database could not be reached, so the burst's other queries
	// fail at once instead of each waiting for its own connection timeout.
	connErr error
}

// Query runs Moodle-style SQL on the session and returns its rows with lower-case column names.
func (s *session) Query(ctx context.Context, query string, args ...any) ([]Row, error) {
	text, flat, err := s.site.Dialect.Expand(query, s.site.Prefix, args)
	if err != nil {
		return nil, err
	}
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, text, flat...)
	if err != nil {
		s.dropIfBroken(ctx, err)
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	for i := range cols {
		cols[i] = strings.ToLower(cols[i])
	}
	var out []Row
	dest := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(Row, len(cols))
		for i, c := range cols {
			if dest[i].Valid {
				row[c] = dest[i].String
			} else {
				row[c] = nil
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		s.dropIfBroken(ctx, err)
		return nil, err
	}
	return out, nil
}

func (s *session) connection(ctx context.Context) (*sql.Conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	if s.connErr != nil {
		return nil, s.connErr
	}
	conn, err := s.site.DB.Conn(ctx)
	if err == nil && s.site.SessionsPrepared {
		s.conn = conn
		return conn, nil
	}
	if err == nil {
		err = conn.PingContext(ctx)
		if err != nil {
			discard(conn)
		}
	}
	if err != nil {
		s.connErr = fmt.Errorf("connect to the database: %w", err)
		return nil, s.connErr
	}
	for _, stmt := range sessionSetup(s.site.Dialect, s.site.StatementTimeout) {
		if _, err := conn.ExecContext(ctx, stmt.sql); err != nil && !stmt.optional {
			discard(conn)
			return nil, fmt.Errorf("prepare session (%s): %w", stmt.sql, err)
		}
	}
	s.conn = conn
	return conn, nil
}

// dropIfBroken forgets a connection that can no longer be used (the server went away or the
// query was cancelled mid-flight), so the next query reconnects.
func (s *session) dropIfBroken(ctx context.Context, err error) {
	if s.conn == nil {
		return
	}
	if errors.Is(err, driver.ErrBadConn) || ctx.Err() != nil || s.conn.PingContext(context.Background()) != nil {
		discard(s.conn)
		s.conn = nil
	}
}

func (s *session) close() {
	if s.conn == nil {
		return
	}
	if s.site.Dialect == SQLite {
		// An in-memory SQLite database lives only as long as its connections: give the
		// connection back writable instead of closing it.
		_, _ = s.conn.ExecContext(context.Background(), "PRAGMA query_only = OFF")
		_ = s.conn.Close()
	} else if s.site.ReuseSessions {
		_ = s.conn.Close() // back to the pool; the next session sets it up again
	} else {
		discard(s.conn)
	}
	s.conn = nil
}

// discard closes a connection without returning it to the pool, so no read-only or
// time-limited session is reused by other code sharing the pool.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

type setupStmt struct {
	sql      string
	optional bool
}

// sessionSetup returns the statements that make a session read-only and time-limited.
func sessionSetup(d Dialect, limit time.Duration) []setupStmt {
	var out []setupStmt
	switch d {
	case MySQL:
		out = append(out, setupStmt{sql: "SET SESSION TRANSACTION READ ONLY"})
		// A decimal division or AVG keeps only 4 more decimals than its operands by default,
		// where PostgreSQL and SQLite keep at least 15 significant digits: with the maximum
		// the engines agree once FormatValue rounds (see floatDecimals).
		out = append(out, setupStmt{sql: "SET SESSION div_precision_increment = 30", optional: true})
		if limit > 0 {
			// MariaDB understands max_statement_time (seconds), MySQL MAX_EXECUTION_TIME (ms);
			// each engine refuses the other's variable, so both are optional.
			out = append(out,
				setupStmt{sql: fmt.Sprintf("SET SESSION max_statement_time = %.3f", limit.Seconds()), optional: true},
				setupStmt{sql: fmt.Sprintf("SET SESSION MAX_EXECUTION_TIME = %d", limit.Milliseconds()), optional: true})
		}
	case Postgres:
		out = append(out, setupStmt{sql: "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"})
		if limit > 0 {
			out = append(out, setupStmt{sql: fmt.Sprintf("SET statement_timeout = %d", limit.Milliseconds())})
		}
	case SQLite:
		out = append(out, setupStmt{sql: "PRAGMA query_only = ON"})
	}
	return out
}
