package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// envDay selects the site of BenchmarkDayCost: "target" (50,000 users, 5,000 courses, 10
// million log rows over 13 months) or "huge" (500,000 users, 50 million log rows; the daily
// family only). Unset skips it: loading takes minutes to an hour.
const envDay = "MZ_BENCH_DAY"

// daySize is one benchmark site: what the Go generator builds and loads, and how many times
// its log is copied inside the database afterwards.
type daySize struct {
	name      string
	size      fixture.Size
	logCopies int // the log ends with size.LogRows x logCopies rows
	families  []measures.Family
}

var daySizes = map[string]daySize{
	"target": {"target", fixture.Size{Users: 50_000, Courses: 5000, Categories: 20, LogRows: 500_000, Months: 13}, 20, measures.Families},
	"huge":   {"huge", fixture.Size{Users: 500_000, Courses: 5000, Categories: 20, LogRows: 1_000_000, Months: 13}, 50, []measures.Family{measures.Daily}},
}

// Targets of database seconds per day of bursts, per engine (at the target size).
var dayTargets = map[measures.Dialect]float64{measures.MySQL: 4.7, measures.Postgres: 1.7}

// runsPerDay is how many bursts of each family a day holds with the default schedules.
var runsPerDay = map[measures.Family]float64{
	measures.Instant: 1440, measures.Hourly: 24, measures.Daily: 1, measures.Weekly: 1.0 / 7, measures.Monthly: 1.0 / 30,
}

// keptDatabase opens (creating it when missing) the database called name on the server of an
// administrator DSN. Unlike the other benchmark sites it is kept after the run, so that the
// slow load happens once: drop it by hand (DROP DATABASE mzbench_target). It returns the
// database's DSN too.
func keptDatabase(ctx context.Context, d measures.Dialect, adminDSN, name string) (*sql.DB, string, error) {
	var driver, dsn, create string
	switch d {
	case measures.MySQL:
		cfg, err := mysql.ParseDSN(adminDSN)
		if err != nil {
			return nil, "", err
		}
		cfg.DBName = ""
		admin := cfg.FormatDSN()
		cfg.DBName = name
		cfg.MaxAllowedPacket = 64 << 20
		dsn, driver, create = cfg.FormatDSN(), "mysql", "CREATE DATABASE IF NOT EXISTS "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		db, err := sql.Open(driver, admin)
		if err != nil {
			return nil, "", err
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, create); err != nil {
			return nil, "", err
		}
	case measures.Postgres:
		u, err := url.Parse(adminDSN)
		if err != nil {
			return nil, "", err
		}
		admin := u.String()
		u.Path = "/" + name
		dsn, driver = u.String(), "pgx"
		db, err := sql.Open(driver, admin)
		if err != nil {
			return nil, "", err
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			return nil, "", err
		}
		if n == 0 {
			if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
				return nil, "", err
			}
		}
	default:
		return nil, "", fmt.Errorf("no kept database for %s", d)
	}
	db, err := sql.Open(driver, dsn)
	return db, dsn, err
}

// dayLoadVersion names the way the log is copied; a database loaded another way is copied again.
const dayLoadVersion = "v2"

// loadDaySite makes sure the database holds the site of sz, loading what is missing: the Go
// generator's model, then the log copied logCopies-1 more times by INSERT ... SELECT inside the
// database (on MariaDB, written in time order by copyLogInOrder), then the planner statistics.
// Copy k of a row is moved back by k/logCopies of the 13 months, modulo 13 months, so the
// copies spread evenly over the site's history instead of piling up on the generator's busiest
// hours (the last hour then holds the generator's own rows plus one slice of each copy, about
// 17,000 rows at the target size). A marker table records the stages done, so an interrupted
// load resumes at the copies.
func loadDaySite(ctx context.Context, tb testing.TB, d measures.Dialect, db *sql.DB, sz daySize) (loaded bool) {
	marker := "mzbench_loaded"
	stage := map[string]int64{}
	if rows, err := db.QueryContext(ctx, "SELECT stage, value FROM "+marker); err == nil {
		for rows.Next() {
			var k string
			var v int64
			rows.Scan(&k, &v)
			stage[k] = v
		}
		rows.Close()
	}
	done := sz.name + "-" + dayLoadVersion
	start := time.Now()
	setStage := func(k string, v int64) {
		for _, q := range []string{"CREATE TABLE IF NOT EXISTS " + marker + " (stage VARCHAR(40), value BIGINT)",
			fmt.Sprintf("DELETE FROM %s WHERE stage = '%s'", marker, k), fmt.Sprintf("INSERT INTO %s VALUES ('%s', %d)", marker, k, v)} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if _, ok := stage[done]; ok {
		if _, ok := stage[sz.name+"-ordered"]; ok {
			return false
		}
		orderLog(ctx, tb, d, db)
		if err := analyze(ctx, db, d, fixture.Generate(benchSeed, fixture.Tiny, benchNow, fixture.WithAdvancedPerfs())); err != nil {
			tb.Fatal(err)
		}
		setStage(sz.name+"-ordered", 1)
		tb.Logf("%s %s: log ordered by time and analysed in %v", d, sz.name, time.Since(start).Round(time.Second))
		return true
	}
	maxID, haveModel := stage[sz.name+"-model"]
	m := fixture.Generate(benchSeed, sz.size, benchNow, fixture.WithAdvancedPerfs())
	if !haveModel {
		// Start from an empty database.
		var tables []string
		q := "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
		if d == measures.Postgres {
			q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
		}
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			var t string
			rows.Scan(&t)
			tables = append(tables, t)
		}
		rows.Close()
		for _, t := range tables {
			if _, err := db.ExecContext(ctx, "DROP TABLE "+t); err != nil {
				tb.Fatal(err)
			}
		}
		tb.Logf("%s %s: generated in %v", d, sz.name, time.Since(start).Round(time.Second))
		if err := m.Load(ctx, db, string(d), fixture.DefaultPrefix); err != nil {
			tb.Fatalf("load: %v", err)
		}
		if err := db.QueryRowContext(ctx, "SELECT MAX(id) FROM "+fixture.DefaultPrefix+logTable).Scan(&maxID); err != nil {
			tb.Fatal(err)
		}
		setStage(sz.name+"-model", maxID)
		tb.Logf("%s %s: model loaded after %v", d, sz.name, time.Since(start).Round(time.Second))
	} else {
		// Copies made another way: remove them (and their space, on PostgreSQL).
		if _, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s%s WHERE id > %d", fixture.DefaultPrefix, logTable, maxID)); err != nil {
			tb.Fatal(err)
		}
		if d == measures.Postgres {
			if _, err := db.ExecContext(ctx, "VACUUM "+fixture.DefaultPrefix+logTable); err != nil {
				tb.Fatal(err)
			}
		}
		tb.Logf("%s %s: earlier copies removed after %v", d, sz.name, time.Since(start).Round(time.Second))
	}
	logT, _ := fixture.TableByName(logTable)
	const period = 395 * 86400 // 13 months
	shift := period / sz.logCopies
	now := benchNow.Unix()
	var cols, sel []string
	for _, c := range logT.Columns {
		if c.Name == "id" {
			continue
		}
		cols = append(cols, c.Name)
		if c.Name == "timecreated" {
			sel = append(sel, fmt.Sprintf("%d - MOD(%d - l.timecreated + s.k * %d, %d)", now, now, shift, period))
		} else {
			sel = append(sel, "l."+c.Name)
		}
	}
	if d == measures.MySQL {
		copyLogInOrder(ctx, tb, db, sz, cols, sel, maxID, start)
	} else {
		// A few copies per statement: big enough to be fast, small enough to show progress.
		const per = 4
		for k := 1; k < sz.logCopies; k += per {
			hi := min(k+per-1, sz.logCopies-1)
			stmt := fmt.Sprintf("INSERT INTO %s%s (%s) SELECT %s FROM %s%s l CROSS JOIN generate_series(%d, %d) AS s(k) WHERE l.id <= %d",
				fixture.DefaultPrefix, logTable, strings.Join(cols, ", "), strings.Join(sel, ", "),
				fixture.DefaultPrefix, logTable, k, hi, maxID)
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				tb.Fatalf("copy the log: %v", err)
			}
			tb.Logf("%s %s: log copies %d..%d done after %v", d, sz.name, k, hi, time.Since(start).Round(time.Second))
		}
		orderLog(ctx, tb, d, db)
	}
	if err := analyze(ctx, db, d, m); err != nil {
		tb.Fatal(err)
	}
	setStage(done, 1)
	setStage(sz.name+"-ordered", 1)
	tb.Logf("%s %s: loaded and analysed in %v", d, sz.name, time.Since(start).Round(time.Second))
	return true
}

// BenchmarkDayCost loads a site at the target size into MariaDB and PostgreSQL (kept
// between runs, see keptDatabase) and runs each family on it as the daemon would, then prints
// the seconds per burst and the seconds per day of bursts (1,440 instant, 24 hourly, 1 daily,
// 1/7 weekly, 1/30 monthly) against the target. The time of a burst is the runner's wall time:
// the database's time plus the driver's and the runner's (well under 1 ms a burst), so it is an
// upper bound of the database time. Instant and hourly bursts are repeated (median), the
// others run once after one warm-up run.
func BenchmarkDayCost(b *testing.B) {
	sz, ok := daySizes[os.Getenv(envDay)]
	if !ok {
		b.Skipf("%s is not set (target or huge): skipping the day-cost site (it takes long to load)", envDay)
	}
	for _, d := range []measures.Dialect{measures.MySQL, measures.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db, dsn, err := keptDatabase(ctx, d, adminDSN(b, d), "mzbench_"+sz.name)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(2)
			loadDaySite(ctx, b, d, db, sz)
			var logRows int64
			db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+fixture.DefaultPrefix+logTable).Scan(&logRows)
			// The runner reads through a pool like the program's own (prepared sessions).
			pool, prepared, err := measures.OpenPool(d, dsn, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			pool.SetMaxOpenConns(2)
			site := &measures.Site{Name: "day", Host: "day", DB: pool, Dialect: d, Prefix: fixture.DefaultPrefix,
				Location: time.UTC, Courses: coursesOfInterest, MeasureTimeout: 10 * time.Minute, ReuseSessions: true,
				SessionsPrepared: prepared, Memo: &memMemo{}}
			runner := &measures.Runner{Registry: catalogue.Registry(), Logger: quietLogger()}
			perDay := 0.0
			families, err := dayFamilies(sz)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range families {
				reps := 1
				if f == measures.Instant || f == measures.Hourly {
					reps = 15
				}
				runner.Run(ctx, site, f, benchNow) // warm-up: caches as a daemon has them
				var times []float64
				var burst *measures.Burst
				for range reps {
					start := time.Now()
					burst = runner.Run(ctx, site, f, benchNow)
					times = append(times, time.Since(start).Seconds())
				}
				sort.Float64s(times)
				med := times[len(times)/2]
				if err := burst.Err(); err != nil {
					b.Errorf("%s on %s: %v", f, d, err)
				}
				if os.Getenv(envDayStatements) != "" || f == measures.Instant || f == measures.Hourly {
					timeStatements(ctx, b, site, f, min(reps, 5))
				}
				if f == measures.Instant {
					// For comparison: the burst without a memo (a first run, a backfill) reads
					// the whole hour of web log events.
					plain := *site
					plain.Memo = nil
					var full []float64
					for range reps {
						start := time.Now()
						runner.Run(ctx, &plain, f, benchNow)
						full = append(full, time.Since(start).Seconds())
					}
					sort.Float64s(full)
					b.Logf("%s %-8s %8.1f ms/burst without a memo (the whole hour of web log events)", d, f, full[len(full)/2]*1000)
				}
				perDay += med * runsPerDay[f]
				b.Logf("%s %-8s %8.1f ms/burst  x %-6.4g/day = %7.2f s/day  (%d values)", d, f, med*1000, runsPerDay[f], med*runsPerDay[f], len(burst.Values))
				b.ReportMetric(med*1000, f.String()+"-ms")
			}
			for b.Loop() {
			}
			if len(families) == len(measures.Families) {
				b.Logf("%s: %.2f s of database time per day (target %.1f s), log rows %d", d, perDay, dayTargets[d], logRows)
				b.ReportMetric(perDay, "s/day")
			}
			b.ReportMetric(float64(logRows), "logrows")
		})
	}
}

// envDayFamilies, a comma-separated list of families (instant,hourly), limits BenchmarkDayCost
// to those families of its site, for example to measure the instant burst again alone.
const envDayFamilies = "MZ_BENCH_DAY_FAMILIES"

// dayFamilies returns the families BenchmarkDayCost runs on site sz: its own, or those of
// envDayFamilies.
func dayFamilies(sz daySize) ([]measures.Family, error) {
	v := os.Getenv(envDayFamilies)
	if v == "" {
		return sz.families, nil
	}
	var out []measures.Family
	for _, name := range strings.Split(v, ",") {
		f, err := measures.ParseFamily(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envDayFamilies, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// envDayStatements set to anything makes BenchmarkDayCost time the statements of every family,
// not only the instant and hourly ones.
const envDayStatements = "MZ_BENCH_DAY_STATEMENTS"

// timeStatements logs the median time of each statement of family f (reps runs), slowest
// first, so that the share of each query in a burst is known.
func timeStatements(ctx context.Context, tb testing.TB, site *measures.Site, f measures.Family, reps int) {
	qs, err := collectQueries(ctx, catalogue.Registry(), site, f)
	if err != nil {
		tb.Logf("statements of %s: %v", f, err)
		return
	}
	type timed struct {
		name string
		ms   float64
	}
	var out []timed
	for _, q := range qs {
		if q.sql == "" {
			continue
		}
		var ts []float64
		for range reps {
			start := time.Now()
			rows, err := site.DB.QueryContext(ctx, q.sql, q.args...)
			if err != nil {
				tb.Logf("%s: %v", q.name, err)
				break
			}
			for rows.Next() {
			}
			rows.Close()
			ts = append(ts, float64(time.Since(start).Microseconds())/1000)
		}
		if len(ts) == 0 {
			continue
		}
		sort.Float64s(ts)
		out = append(out, timed{q.name, ts[len(ts)/2]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ms > out[j].ms })
	for _, t := range out {
		tb.Logf("  %s %s %-32s %8.2f ms", site.Dialect, f, t.name, t.ms)
	}
}

// copyLogInOrder makes MariaDB's log of sz in time order from the model's rows (ids up to
// maxID): the copies, the model's own rows among them as copy 0, are written slice of time after
// slice of time, each slice sorted, into a new table without secondary indexes; the indexes are
// then built once each and the new table replaces the model's log. So the log is written once,
// in the order a real site appends it, and the disk never holds two copies of it, as copying
// into the log and reordering it afterwards (orderLog) did: 50 million rows would have needed
// twice the log's space. cols and sel are the columns and the select list of a copy, with s.k
// the copy number.
func copyLogInOrder(ctx context.Context, tb testing.TB, db *sql.DB, sz daySize, cols, sel []string, maxID int64, start time.Time) {
	t := fixture.DefaultPrefix + logTable
	logT, _ := fixture.TableByName(logTable)
	create := orderedLogDDL(tb)
	exec := func(q string) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("copy the log in order: %.200s: %v", q, err)
		}
	}
	exec("DROP TABLE IF EXISTS " + t + "_ordered")
	for _, q := range create {
		exec(q)
	}
	const period = 395 * 86400 // as in loadDaySite
	end := benchNow.Unix() + 1
	first := end - period - 1
	// Each slice reads the model's rows once per copy and sorts what falls in it: ten slices
	// (a million rows each at the target size, five at the large one) keep both costs small.
	const slices = 10
	var tc string
	for i, c := range cols {
		if c == "timecreated" {
			tc = sel[i]
		}
	}
	for i := range slices {
		lo := first + (end-first)*int64(i)/int64(slices)
		hi := first + (end-first)*int64(i+1)/int64(slices)
		exec(fmt.Sprintf("INSERT INTO %s_ordered (%s) SELECT %s FROM %s l CROSS JOIN (SELECT seq AS k FROM seq_0_to_%d) s WHERE l.id <= %d AND %s >= %d AND %s < %d ORDER BY %s",
			t, strings.Join(cols, ", "), strings.Join(sel, ", "), t, sz.logCopies-1, maxID, tc, lo, tc, hi, tc))
		tb.Logf("mysql %s: log slice %d of %d written after %v", sz.name, i+1, slices, time.Since(start).Round(time.Second))
	}
	var adds []string
	for _, ix := range logT.Indexes {
		adds = append(adds, fmt.Sprintf("ADD INDEX %s (%s)", fixture.IndexName(fixture.DefaultPrefix, logTable, ix), strings.Join(ix.Fields, ", ")))
	}
	exec("ALTER TABLE " + t + "_ordered " + strings.Join(adds, ", "))
	tb.Logf("mysql %s: log indexes built after %v", sz.name, time.Since(start).Round(time.Second))
	exec("DROP TABLE " + t)
	exec("RENAME TABLE " + t + "_ordered TO " + t)
}

// orderedLogDDL returns the statements that create MariaDB's new log table, <log>_ordered:
// the log's columns without its secondary indexes, which are built once the rows are in.
func orderedLogDDL(tb testing.TB) []string {
	bare, _ := fixture.TableByName(logTable)
	bare.Name = logTable + "_ordered"
	bare.Indexes = nil
	create, err := fixture.TableDDL(fixture.DialectMySQL, fixture.DefaultPrefix, bare)
	if err != nil {
		tb.Fatal(err)
	}
	return create
}

// orderLog stores the log in time order, as a real site's log is (rows are appended as events
// happen, so ids and timecreated grow together and a time range is a run of adjacent pages);
// the generator and the copies write it in another order. PostgreSQL: CLUSTER on the
// timecreated index. MariaDB, whose tables are stored in primary-key order: the rows are read
// through the timecreated index (already in order, so nothing is sorted) into a new table
// without secondary indexes, which gives them new ids; the indexes are then built once each.
func orderLog(ctx context.Context, tb testing.TB, d measures.Dialect, db *sql.DB) {
	t := fixture.DefaultPrefix + logTable
	var stmts []string
	switch d {
	case measures.Postgres:
		var idx string
		if err := db.QueryRowContext(ctx, "SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(timecreated)'", t).Scan(&idx); err != nil {
			tb.Fatalf("the timecreated index of %s: %v", t, err)
		}
		stmts = []string{"CLUSTER " + t + " USING " + idx}
	case measures.MySQL:
		logT, _ := fixture.TableByName(logTable)
		var cols []string
		for _, c := range logT.Columns {
			if c.Name != "id" {
				cols = append(cols, c.Name)
			}
		}
		list := strings.Join(cols, ", ")
		create := orderedLogDDL(tb)
		var byTime string
		var adds []string
		for _, ix := range logT.Indexes {
			name := fixture.IndexName(fixture.DefaultPrefix, logTable, ix)
			if len(ix.Fields) == 1 && ix.Fields[0] == "timecreated" {
				byTime = name
			}
			adds = append(adds, fmt.Sprintf("ADD INDEX %s (%s)", name, strings.Join(ix.Fields, ", ")))
		}
		stmts = append([]string{"DROP TABLE IF EXISTS " + t + "_ordered"}, create...)
		stmts = append(stmts,
			"INSERT INTO "+t+"_ordered ("+list+") SELECT "+list+" FROM "+t+" FORCE INDEX ("+byTime+") ORDER BY timecreated, id",
			"ALTER TABLE "+t+"_ordered "+strings.Join(adds, ", "),
			"DROP TABLE "+t, "RENAME TABLE "+t+"_ordered TO "+t)
	}
	for _, q := range stmts {
		start := time.Now()
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("order the log: %s: %v", q, err)
		}
		tb.Logf("%s: order the log: %.60s... %v", d, q, time.Since(start).Round(time.Second))
	}
}
