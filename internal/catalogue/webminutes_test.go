package catalogue_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/internal/ztest"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// mapMemo is a measures.Memo in memory that counts its stores.
type mapMemo struct {
	data   map[string][]byte
	stores int
}

func (m *mapMemo) Load(name string) []byte { return m.data[name] }

func (m *mapMemo) Store(name string, data []byte) {
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[name] = append([]byte(nil), data...)
	m.stores++
}

func TestWebMinutesOnSQLite(t *testing.T) {
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	checkWebMinutes(t, db, measures.SQLite)
}

func TestWebMinutesOnMariaDB(t *testing.T) {
	checkWebMinutes(t, ztest.MySQL(t), measures.MySQL)
}

func TestWebMinutesOnPostgres(t *testing.T) {
	checkWebMinutes(t, ztest.Postgres(t), measures.Postgres)
}

// checkWebMinutes runs the instant family minute after minute with a memo, so that the web log
// events of the hour are counted per minute and reused, and checks every value against the
// hour counted from the model: after a gap, after a forgotten memo, and with rows written after
// their minute. A row written within WebMinuteSettle of its minute is counted; one written
// later into a minute already settled is not (the full statement, run without a memo, counts
// it), which also shows that settled minutes are reused rather than read again.
func checkWebMinutes(t *testing.T, db *sql.DB, dialect measures.Dialect) {
	ctx := context.Background()
	paris := mustLoc("Europe/Paris")
	// A Tuesday afternoon, when the fixture's site is busy.
	now := time.Date(2026, 6, 2, 14, 30, 0, 0, paris)
	model := fixture.Generate(fixtureSeed, fixture.Tiny, now)
	if err := model.Load(ctx, db, string(dialect), "mdl_"); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	reg := catalogue.Registry()
	rate, perMinute := reg.Lookup("moodle.general.webrequestrate"), reg.Lookup("moodle.general.webrequests")
	runner := &measures.Runner{Registry: reg, Logger: testLogger(t)}
	memo := &mapMemo{}
	site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: dialect, Prefix: "mdl_", Location: paris, Memo: memo}

	// run runs the instant family for the minute ending at end and compares both web values
	// with the model; it returns the hour's count the runner sent.
	run := func(step string, end time.Time) string {
		t.Helper()
		b := runner.Run(ctx, site, measures.Instant, end.Add(20*time.Second))
		for _, f := range b.Failures {
			t.Fatalf("%s: %v", step, f)
		}
		got := map[string]string{}
		for _, v := range b.Values {
			got[v.Key] = v.Value
		}
		x := &X{M: model, From: b.Window.From.Unix(), To: b.Window.To.Unix()}
		t.Run(step, func(t *testing.T) {
			compareValue(t, rate, rate.Key, got, expectations[rate.Key](x))
			compareValue(t, perMinute, perMinute.Key, got, expectations[perMinute.Key](x))
		})
		return got[rate.Key]
	}

	start := now.Add(-90 * time.Minute)
	busy := 0
	for i := 0; i <= 70; i++ {
		if run(fmt.Sprintf("minute %d", i), start.Add(time.Duration(i)*time.Minute)) != "0" {
			busy++
		}
	}
	if busy < 30 {
		t.Fatalf("only %d of 71 runs saw web events in their hour: the fixture does not test the counting", busy)
	}
	if memo.stores != 71 {
		t.Fatalf("%d memo stores for 71 runs", memo.stores)
	}
	// A gap of 17 minutes, then a forgotten memo.
	end := start.Add(87 * time.Minute)
	run("after a gap", end)
	memo.data["general.web.minutes"] = []byte("{not json")
	end = end.Add(time.Minute)
	run("after a lost memo", end)
	end = end.Add(time.Minute)
	run("again", end)

	// Rows written after their minute: one within the settle time, counted by the next run; one
	// into a minute settled long ago, not counted since its minute is not read again.
	insertWebLog(t, db, model, end.Add(-core.WebMinuteSettle/2).Unix())
	end = end.Add(time.Minute)
	run("row written within the settle time", end)
	end = end.Add(time.Minute)
	run("before the late row", end)
	insertWebLog(t, db, model, end.Add(-6*core.WebMinuteSettle).Unix())
	end = end.Add(time.Minute)
	incremental := valueOf(runner.Run(ctx, site, measures.Instant, end.Add(20*time.Second)), rate.Key)
	plain := *site
	plain.Memo = nil
	full := valueOf(runner.Run(ctx, &plain, measures.Instant, end.Add(20*time.Second)), rate.Key)
	inc, err1 := strconv.ParseFloat(incremental, 64)
	all, err2 := strconv.ParseFloat(full, 64)
	if err1 != nil || err2 != nil || math.Abs(all-inc-1.0/60) > 1e-5 {
		t.Errorf("a row written %v late: %s web events per minute from the memo, %s from the full statement; want the memo's count one event (1/60) lower", 6*core.WebMinuteSettle, incremental, full)
	}
	t.Logf("%s: %d runs with web events in their hour; %s web events per minute from the memo, %s with the late row", dialect, busy, incremental, full)
}

// valueOf returns the value a burst sent for key.
func valueOf(b *measures.Burst, key string) string {
	for _, v := range b.Values {
		if v.Key == key {
			return v.Value
		}
	}
	return ""
}

// insertWebLog writes one web log row at clock into the database and the model, as a request
// that logs its events when it ends does.
func insertWebLog(t *testing.T, db *sql.DB, model *fixture.Model, clock int64) {
	t.Helper()
	var id int64
	if err := db.QueryRow(`SELECT MAX(id) + 1 FROM mdl_logstore_standard_log`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	_, err := db.Exec(fmt.Sprintf(`INSERT INTO mdl_logstore_standard_log
  (id, eventname, component, action, target, crud, edulevel, contextid, contextlevel, contextinstanceid, userid, anonymous, timecreated, origin)
VALUES (%d, '\core\event\dashboard_viewed', 'core', 'viewed', 'dashboard', 'r', 0, 1, 10, 0, 2, 0, %d, 'web')`, id, clock))
	if err != nil {
		t.Fatal(err)
	}
	model.Logs = append(model.Logs, fixture.Log{ID: id, EventName: `\core\event\dashboard_viewed`, Component: "core", Action: "viewed",
		Target: "dashboard", CRUD: "r", ContextID: 1, ContextLevel: 10, UserID: 2, TimeCreated: clock, Origin: "web"})
}
