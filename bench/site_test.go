package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Environment variables holding the administrator DSNs of the database servers. Each names a
// server on which temporary databases are created and dropped; unset means "skip that engine".
const (
	envMySQL    = "MZ_MYSQL_DSN"
	envPostgres = "MZ_PG_DSN"
)

// benchNow is the generation time of every synthetic site and the clock of every run: a
// Wednesday afternoon, away from day, week and month boundaries, so that every window is a
// plain one.
var benchNow = time.Date(2026, 6, 3, 14, 37, 20, 0, time.UTC)

const benchSeed = 20260603

// coursesOfInterest is what the benchmark sites select for targeted collection, so that the
// course-of-interest queries run too.
var coursesOfInterest = measures.CourseSelection{IDs: []int64{3}, IDNumbers: []string{fixture.PhysicsIDNumber}}

// siteSize names a fixture size for caching and reports.
type siteSize struct {
	name string
	size fixture.Size
}

var (
	// smallSite is fixture.Small, the site of the runner benchmarks.
	smallSite = siteSize{"small", fixture.Small}
	// costSite is fixture.Small with twice its log rows, so that planners see a log table
	// large enough for their index choices to matter (200k rows over 13 months).
	costSite = siteSize{"cost", withLogRows(fixture.Small, 200_000)}
	// largeSite is fixture.Large, timed once on PostgreSQL.
	largeSite = siteSize{"large", fixture.Large}
)

func withLogRows(s fixture.Size, n int) fixture.Size {
	s.LogRows = n
	return s
}

// loadedSite is a synthetic site loaded into one database, shared by every test and benchmark
// of the binary and dropped by TestMain.
type loadedSite struct {
	dialect  measures.Dialect
	db       *sql.DB
	model    *fixture.Model
	drop     func() error
	loadTime time.Duration
	err      error
}

var (
	sitesMu sync.Mutex
	sites   = map[string]*loadedSite{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	sitesMu.Lock()
	for name, s := range sites {
		if s.drop != nil {
			if err := s.drop(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: drop %s: %v\n", name, err)
			}
		}
	}
	sitesMu.Unlock()
	os.Exit(code)
}

// adminDSN returns the administrator DSN for a dialect, or skips tb when it is not set.
// SQLite needs none.
func adminDSN(tb testing.TB, d measures.Dialect) string {
	tb.Helper()
	env := ""
	switch d {
	case measures.SQLite:
		return ""
	case measures.MySQL:
		env = envMySQL
	case measures.Postgres:
		env = envPostgres
	}
	dsn := os.Getenv(env)
	if dsn == "" {
		tb.Skipf("%s is not set: skipping %s (set it to an administrator DSN to run)", env, d)
	}
	return dsn
}

// site returns the synthetic site of size sz loaded into dialect d, loading it on first use.
// It skips tb when the engine's DSN is not set and fails it when loading failed.
func site(tb testing.TB, d measures.Dialect, sz siteSize) *loadedSite {
	tb.Helper()
	dsn := adminDSN(tb, d)
	name := string(d) + "/" + sz.name
	sitesMu.Lock()
	defer sitesMu.Unlock()
	s, ok := sites[name]
	if !ok {
		s = loadSite(d, dsn, sz)
		sites[name] = s
	}
	if s.err != nil {
		tb.Fatalf("site %s: %v", name, s.err)
	}
	return s
}

func loadSite(d measures.Dialect, dsn string, sz siteSize) *loadedSite {
	ctx := context.Background()
	s := &loadedSite{dialect: d}
	start := time.Now()
	// Both optional plugins are installed, so that their queries are measured too.
	s.model = fixture.Generate(benchSeed, sz.size, benchNow, fixture.WithAdvancedPerfs())
	switch d {
	case measures.SQLite:
		db, err := fixture.OpenSQLiteMemory()
		if err != nil {
			s.err = err
			return s
		}
		s.db = db
		s.drop = db.Close
	default:
		db, drop, err := fixture.TempDatabase(ctx, string(d), dsn)
		if err != nil {
			s.err = err
			return s
		}
		s.db, s.drop = db, drop
	}
	if err := s.model.Load(ctx, s.db, string(d), fixture.DefaultPrefix); err != nil {
		s.err = fmt.Errorf("load %s site: %w", sz.name, err)
		return s
	}
	if err := analyze(ctx, s.db, d, s.model); err != nil {
		s.err = err
		return s
	}
	s.loadTime = time.Since(start)
	return s
}

// analyze refreshes the planner statistics of every fixture table, as a production database
// has them.
func analyze(ctx context.Context, db *sql.DB, d measures.Dialect, m *fixture.Model) error {
	var tables []string
	for _, t := range fixture.Tables() {
		tables = append(tables, fixture.DefaultPrefix+t.Name)
	}
	if m.AdvancedPerfs {
		tables = append(tables, fixture.DefaultPrefix+fixture.SlowPagesTable.Name)
	}
	var stmt string
	switch d {
	case measures.MySQL:
		stmt = "ANALYZE TABLE " + strings.Join(tables, ", ")
	case measures.Postgres:
		stmt = "ANALYZE " + strings.Join(tables, ", ")
	case measures.SQLite:
		stmt = "ANALYZE"
	}
	// ANALYZE TABLE returns a result set on MariaDB: read and discard it.
	rows, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("analyze: %w", err)
	}
	return rows.Close()
}

// newSite returns the measures.Site of a loaded site, as the program would configure it.
func (s *loadedSite) newSite() *measures.Site {
	return &measures.Site{
		Name: "bench-" + string(s.dialect), Host: "bench", DB: s.db, Dialect: s.dialect,
		Prefix: fixture.DefaultPrefix, Location: time.UTC, Courses: coursesOfInterest,
		ReuseSessions: true,       // as the program's pools: a burst does not connect again
		Memo:          &memMemo{}, // as the program's state directory, kept in memory
	}
}

// memMemo is a measures.Memo in memory: what the program keeps in its state directory. A
// benchmark that runs one window again and again finds the memo as a daemon does a minute
// later: the hour's minutes counted, all but the last few settled.
type memMemo struct{ data map[string][]byte }

func (m *memMemo) Load(name string) []byte { return m.data[name] }

func (m *memMemo) Store(name string, data []byte) {
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[name] = data
}
