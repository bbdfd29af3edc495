package measures

import (
	"context"
	"fmt"
	"time"
)

// ValueType is the Zabbix value type of an item, which decides how a value is stored.
type ValueType int

// The value types a measure can send. Unsigned is Zabbix's default (numeric unsigned).
const (
	Unsigned ValueType = iota + 1
	Float
	Char
	Text
)

// String returns the value type as written in a Zabbix export (UNSIGNED, FLOAT, CHAR, TEXT).
func (t ValueType) String() string {
	switch t {
	case Unsigned:
		return "UNSIGNED"
	case Float:
		return "FLOAT"
	case Char:
		return "CHAR"
	case Text:
		return "TEXT"
	}
	return fmt.Sprintf("ValueType(%d)", int(t))
}

// Numeric reports whether values of this type are numbers.
func (t ValueType) Numeric() bool { return t == Unsigned || t == Float }

// Aggregate says how a fleet (host group) template combines one measure over many Moodle hosts.
type Aggregate int

// Ways to combine a measure across hosts. NoAggregate keeps a measure out of the fleet template.
const (
	NoAggregate Aggregate = iota
	Sum
	Avg
	Max
	Min
)

// String returns the Zabbix aggregate function name (sum, avg, max, min), or "" for NoAggregate.
func (a Aggregate) String() string {
	switch a {
	case Sum:
		return "sum"
	case Avg:
		return "avg"
	case Max:
		return "max"
	case Min:
		return "min"
	}
	return ""
}

// Severity is a trigger's Zabbix severity.
type Severity int

// Trigger severities, as Zabbix names them.
const (
	NotClassified Severity = iota
	Information
	Warning
	Average
	High
	Disaster
)

// String returns the severity as written in a Zabbix export.
func (s Severity) String() string {
	return [...]string{"NOT_CLASSIFIED", "INFO", "WARNING", "AVERAGE", "HIGH", "DISASTER"}[s]
}

// Macro is a template user macro, used for trigger thresholds and site settings.
type Macro struct {
	Name        string // for example {$MOODLE.ADHOC.QUEUE.MAX}
	Value       string // the template default
	Description string
}

// Trigger is a problem condition on one measure's item.
type Trigger struct {
	// Name is the problem name; it may use Zabbix macros such as {HOST.NAME} or {ITEM.LASTVALUE}.
	Name string
	// Expression is the trigger expression in Zabbix 6.0 syntax, where {item} stands for the
	// measure's item reference (/Template/key), for example "last({item})>{$MOODLE.ADHOC.QUEUE.MAX}".
	Expression string
	// Recovery is an optional recovery expression in the same form.
	Recovery    string
	Severity    Severity
	Description string
	// Macros are the user macros the expressions use, with their template defaults.
	Macros []Macro
	// ManualClose lets operators close the problem by hand.
	ManualClose bool
}

// ValueMap maps raw values to text in Zabbix.
type ValueMap struct {
	Name     string
	Mappings []Mapping
}

// Mapping is one value-to-text entry of a value map.
type Mapping struct {
	Value    string
	NewValue string
}

// Row is one result row of a query, column name to value (nil for SQL NULL). Column names are
// lower case.
type Row map[string]any

// Querier runs SQL written in Moodle style ({table} names, ? arguments) against a site's
// database, for queries computed in Go.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) ([]Row, error)
}

// Query is one round trip to the Moodle database. Several measures may share a query, each
// reading its own column; a grouped query (for LLD item prototypes) returns one row per entity.
type Query struct {
	// Name identifies the query in errors and docs, for example "users.activity".
	Name string
	// SQL is the portable statement in Moodle style: {table} for a prefixed table, ? for an
	// argument. Time never comes from SQL: pass the window through Args.
	SQL string
	// Dialects holds engine-specific SQL that replaces SQL on that engine.
	Dialects map[Dialect]string
	// Args returns the statement's arguments for a run. A slice argument (other than []byte)
	// expands its ? into one placeholder per element (NULL when empty), for IN lists.
	Args func(p Params) []any
	// Compute, when set, replaces SQL: it computes the rows in Go, for example from several
	// statements.
	Compute func(ctx context.Context, q Querier, p Params) ([]Row, error)
	// Incremental, when set, replaces SQL in runs that have a Params.Memo: it returns the rows
	// SQL would, counting only what the site's earlier bursts have not counted yet (for example
	// the last minutes of an hour-long lookback run every minute). SQL stays the definition:
	// backfills, runs without a memo and the cost checks use it.
	Incremental func(ctx context.Context, q Querier, p Params) ([]Row, error)
	// Skip, when set and returning a reason, leaves the query's measures out of the run (for
	// example a measure that reads Moodle's code directory when none is configured).
	Skip func(p Params) string
	// Component is the Moodle plugin the query needs (for example "local_advancedperfs"); the
	// query's measures are skipped cleanly when the plugin is not installed.
	Component string
	// Cost documents what bounds the query on a large site, for docs/measures.md.
	Cost string
	// Timeout overrides the site's per-measure timeout for this query.
	Timeout time.Duration
	// RunReport marks a query that describes the run itself (self-monitoring) from
	// Params.Previous. A Runner with DeferRunReports leaves its measures out of Run, and
	// Runner.RunReport computes them once the run has been delivered.
	RunReport bool
}

// SQLFor returns the statement to run on dialect d.
func (q *Query) SQLFor(d Dialect) string {
	if s, ok := q.Dialects[d]; ok {
		return s
	}
	return q.SQL
}

// Discovery is a Zabbix low-level discovery rule of type trapper. Its query returns one row per
// entity; each row becomes one LLD object whose macros name the row's columns.
type Discovery struct {
	Key         string
	Name        string
	Description string
	Family      Family
	Query       *Query
	// Macros map LLD macros to query columns. The first macro identifies the entity and must
	// appear in every prototype key.
	Macros []LLDMacro
	// Lifetime is how long Zabbix keeps items of entities no longer discovered (default 30d).
	Lifetime string
	// Template is the host template that carries the rule (default "Moodle").
	Template string
	// Population names the query column that counts the people an entity's values are about;
	// an entity below the site's k-threshold is folded into the OtherID entity (see govern).
	Population string
	// Rank names the column that orders entities when more than the cap are found, the largest
	// kept first (Population when empty).
	Rank string
	// Cap is the most entities discovered (DefaultCap when 0); a site can set its own.
	Cap int
	// Disjoint says that nobody belongs to two entities (a user has one authentication
	// plugin), so the populations of folded entities add up.
	Disjoint bool
}

// LLDMacro binds one low-level discovery macro to a query column.
type LLDMacro struct {
	Macro  string // for example {#CATID}
	Column string // for example catid
}

// IDMacro returns the macro that identifies an entity.
func (d *Discovery) IDMacro() LLDMacro { return d.Macros[0] }

// TemplateName returns the host template that carries the rule.
func (d *Discovery) TemplateName() string {
	if d.Template == "" {
		return DefaultTemplate
	}
	return d.Template
}

// DefaultTemplate is the host template a measure belongs to when it names none.
const DefaultTemplate = "Moodle"

// PerformanceTemplate is the host template of cron, task, queue, storage, database and
// self-monitoring measures. With DefaultTemplate it is linked to every Moodle site; contrib
// templates are linked only to the sites that have their plugin.
const PerformanceTemplate = "Moodle performance"

// Measure is one monitored value: what is queried, what is sent, and everything the template
// item, its triggers and the docs need. One definition drives them all.
type Measure struct {
	// Key is the Zabbix item key. For an item prototype it contains its rule's macros.
	Key string
	// Name is the item name shown in Zabbix.
	Name string
	// Description says exactly what is counted, as one or more sentences.
	Description string
	Family      Family
	Type        ValueType
	// Units is the Zabbix unit (B, s, %, or a free word such as "users").
	Units string
	// Query produces the value; Column names the column read from its row(s).
	Query  *Query
	Column string
	// Discovery makes the measure an item prototype of that rule, filled from a grouped query
	// with one row per entity. Discovered entities with no row get 0.
	Discovery *Discovery
	// Aggregate is how the fleet template combines the measure over hosts (NoAggregate: left out).
	Aggregate Aggregate
	// Template is the host template carrying the item (default "Moodle").
	Template string
	// Domain groups measures in docs and becomes the item's "component" tag (users, courses...).
	Domain string
	// ValueMap, when set, maps raw values to text.
	ValueMap *ValueMap
	// Triggers are problem conditions on this item.
	Triggers []Trigger
	// Graph names the template graph this item is drawn in; items sharing a name share a graph.
	Graph string
	// GraphColor, as six hexadecimal digits (RRGGBB), sets the item's line colour in Graph.
	// Leave it empty: the colour then derives from the key, and only a measure whose derived
	// colour is already taken in its graph needs one.
	GraphColor string
	// Dashboard puts the measure's graph on the template dashboard.
	Dashboard bool
	// History and Trends override the template's retention (Zabbix durations such as "90d").
	History string
	Trends  string
	// Fixes describes the report_zabbix defect this measure corrects, for the docs.
	Fixes string
	// Legacy marks a key inherited unchanged from report_zabbix.
	Legacy bool
}

// TemplateName returns the host template that carries the measure's item.
func (m *Measure) TemplateName() string {
	if m.Template != "" {
		return m.Template
	}
	if m.Discovery != nil {
		return m.Discovery.TemplateName()
	}
	return DefaultTemplate
}

// Params are the inputs of one run of a query.
type Params struct {
	// Window is the period the family describes.
	Window Window
	// Now is when the run started.
	Now time.Time
	// Roles maps the student, teacher and staff classes to Moodle roles.
	Roles RoleMap
	// Courses are the courses of interest an administrator listed.
	Courses CourseSelection
	// Dirroot is Moodle's code directory and Dataroot its data directory, when configured, for
	// the few measures read from disk rather than the database.
	Dirroot  string
	Dataroot string
	// Previous is how the previous run of this family for this site went, for the
	// self-monitoring measures; nil when unknown (first run, or no state kept).
	Previous *RunRecord
	// CategoryDepth is the deepest course category level the category discovery segments by
	// (1, the top level, when the site sets none).
	CategoryDepth int
	// Memo keeps what incremental queries counted between the site's bursts; nil in a
	// backfill or when the site keeps none (Query.Incremental is then not used).
	Memo Memo
}

// Memo keeps small values between the bursts of one site, by name, for incremental queries: a
// query stores what it has counted and a later burst reads it back. A memo may forget anything
// (a first run, a lost file): a query then counts everything again.
type Memo interface {
	// Load returns what was stored under name, or nil.
	Load(name string) []byte
	// Store keeps data under name, replacing what was there.
	Store(name string, data []byte)
}

// Depth returns the category depth to discover, at least 1.
func (p Params) Depth() int { return max(p.CategoryDepth, 1) }

// RunRecord summarises one run of a family for a site: the product's own health, sent to
// Zabbix by the self-monitoring measures right after the run (see Runner.RunReport).
type RunRecord struct {
	// Finished is when the run ended; LastSuccess when a run last computed and delivered every
	// value (zero when never).
	Finished    time.Time `json:"finished"`
	LastSuccess time.Time `json:"last_success"`
	// Duration is the run's length in seconds.
	Duration float64 `json:"duration_seconds"`
	// MeasuresFailed counts keys whose query failed.
	MeasuresFailed int `json:"measures_failed"`
	// Sent, Processed and Failed count the values handed to Zabbix and its answers; Spooled
	// those kept on disk because Zabbix was unreachable.
	Sent      int `json:"sent"`
	Processed int `json:"processed"`
	Failed    int `json:"failed"`
	Spooled   int `json:"spooled"`
	// SpoolDepth is the number of values waiting in the spool after the run; SpoolDropped the
	// values the spool's bounds discarded during it.
	SpoolDepth   int `json:"spool_depth"`
	SpoolDropped int `json:"spool_dropped"`
}

// From returns the window's start as a Unix time, the form Moodle stores.
func (p Params) From() int64 { return p.Window.From.Unix() }

// To returns the window's end (exclusive) as a Unix time.
func (p Params) To() int64 { return p.Window.To.Unix() }

// Before returns the window's end minus d as a Unix time, for lookbacks ending at the window end.
func (p Params) Before(d time.Duration) int64 { return p.Window.To.Add(-d).Unix() }

// RoleSet selects Moodle roles by archetype or by short name.
type RoleSet struct {
	Archetypes []string
	Shortnames []string
}

// RoleMap says which roles make a user a student, a teacher or staff.
type RoleMap struct {
	Students RoleSet
	Teachers RoleSet
	Staff    RoleSet
}

// DefaultRoles follows Moodle's archetypes: student; teacher and editing teacher; manager.
func DefaultRoles() RoleMap {
	return RoleMap{
		Students: RoleSet{Archetypes: []string{"student"}},
		Teachers: RoleSet{Archetypes: []string{"editingteacher", "teacher"}},
		Staff:    RoleSet{Archetypes: []string{"manager"}},
	}
}

// CourseSelection lists courses of interest by id and by idnumber.
type CourseSelection struct {
	IDs       []int64
	IDNumbers []string
}

// Empty reports whether no course is selected.
func (c CourseSelection) Empty() bool { return len(c.IDs) == 0 && len(c.IDNumbers) == 0 }
