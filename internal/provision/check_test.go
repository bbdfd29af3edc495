package provision

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

var checkNow = time.Date(2025, 11, 21, 10, 30, 15, 123456789, time.UTC)

// moodleDB returns an in-memory SQLite database holding a tiny generated Moodle site.
func moodleDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := fixture.Generate(1, fixture.Tiny, checkNow).Load(context.Background(), db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	return db
}

func emptyDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func senderTo(t *testing.T, addr string) *sender.Client {
	t.Helper()
	c, err := sender.NewClient(sender.Options{Servers: []string{addr}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// failCanary answers like a server that does not know the canary's host or item: the probe
// and the canary are both counted as failed.
func failCanary(req sendertest.Request) sendertest.Reply {
	return sendertest.Reply{Failed: len(req.Data)}
}

// acceptCanary answers like a real server: the probe key has no item, the canary is processed.
func acceptCanary(req sendertest.Request) sendertest.Reply {
	failed := 0
	for _, it := range req.Data {
		if it.Key != CanaryKey {
			failed++
		}
	}
	return sendertest.Reply{Failed: failed}
}

func TestCheckWithoutAPI(t *testing.T) {
	srv := sendertest.NewServer(acceptCanary)
	defer srv.Close()
	var out strings.Builder
	err := Check(context.Background(), CheckInput{
		DB: moodleDB(t), Dialect: measures.SQLite, Prefix: "mdl_", Host: "moodle-main",
		Sender: senderTo(t, srv.Addr), Now: func() time.Time { return checkNow },
	}, &out)
	if err != nil {
		t.Fatalf("Check: %v\n%s", err, out.String())
	}
	want := []string{
		"ok   database: Moodle 4.3 (Build: 20231009), version 2023100900.00",
		"ok   trapper " + srv.Addr + ": answered the sender protocol (probe value: 0 processed, 1 failed, as expected)",
		"skip host moodle-main: no Zabbix API configured: host and items not checked",
		"ok   canary moodle.general.instance: processed (clock " + strconv.FormatInt(checkNow.Unix(), 10) + ")",
		"skip read-back: no Zabbix API configured: the canary was not read back from the history",
	}
	if got := strings.TrimSuffix(out.String(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	items := srv.Items()
	if len(items) != 2 {
		t.Fatalf("server got %d values, want probe and canary: %+v", len(items), items)
	}
	if p := items[0]; p.Key != probeKey || p.Host != "moodle-main" {
		t.Errorf("probe = %+v", p)
	}
	canary := sender.Item{Host: "moodle-main", Key: CanaryKey, Value: "1", Clock: checkNow.Unix(), NS: int64(checkNow.Nanosecond())}
	if items[1] != canary {
		t.Errorf("canary = %+v, want %+v", items[1], canary)
	}
}

func TestCheckFailures(t *testing.T) {
	good := sendertest.NewServer(acceptCanary)
	defer good.Close()
	refusing := sendertest.NewServer(failCanary)
	defer refusing.Close()
	silent := sendertest.NewServer(func(sendertest.Request) sendertest.Reply { return sendertest.Reply{Refuse: true} })
	defer silent.Close()

	noVersion := emptyDB(t)
	if _, err := noVersion.Exec(`CREATE TABLE mdl_config (id INTEGER PRIMARY KEY, name TEXT, value TEXT)`); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		db       *sql.DB
		prefix   string
		sender   string
		step     string
		want     string
		lastLine string
	}{
		{
			name: "empty database", db: emptyDB(t), prefix: "mdl_", sender: good.Addr,
			step: "database", want: "not a Moodle database (table mdl_config not found)",
			lastLine: "FAIL database: not a Moodle database (table mdl_config not found)",
		},
		{
			name: "wrong prefix", db: moodleDB(t), prefix: "m_", sender: good.Addr,
			step: "database", want: "table m_config not found",
		},
		{
			name: "config without version", db: noVersion, prefix: "mdl_", sender: good.Addr,
			step: "database", want: "not a Moodle database (no version in mdl_config)",
		},
		{
			name: "trapper closes without answering", db: moodleDB(t), prefix: "mdl_", sender: silent.Addr,
			step: "trapper", want: "could not deliver",
			lastLine: "FAIL trapper " + silent.Addr + ": ",
		},
		{
			name: "canary refused", db: moodleDB(t), prefix: "mdl_", sender: refusing.Addr,
			step: "canary", want: "the host is unknown to Zabbix, or item moodle.general.instance is missing",
			lastLine: "FAIL canary moodle.general.instance: refused by the server",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := Check(context.Background(), CheckInput{
				DB: tt.db, Dialect: measures.SQLite, Prefix: tt.prefix, Host: "moodle-main",
				Sender: senderTo(t, tt.sender), Now: func() time.Time { return checkNow },
			}, &out)
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a *CheckError\n%s", err, out.String())
			}
			if ce.Step != tt.step || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q (step %s), want step %s containing %q", err, ce.Step, tt.step, tt.want)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "FAIL ") || tt.lastLine != "" && !strings.HasPrefix(last, tt.lastLine) {
				t.Errorf("last line = %q, want prefix %q", last, tt.lastLine)
			}
			for _, l := range lines[:len(lines)-1] {
				if strings.HasPrefix(l, "FAIL") {
					t.Errorf("a FAIL line before the last: %q", l)
				}
			}
		})
	}
}

// TestCheckWithFakeAPI runs the API steps against the in-memory fake: the unit-level twin of
// the integration test against a real server.
func TestCheckWithFakeAPI(t *testing.T) {
	srv := sendertest.NewServer(acceptCanary)
	defer srv.Close()
	clock := strconv.FormatInt(checkNow.Unix(), 10)
	ns := strconv.Itoa(checkNow.Nanosecond())
	setup := func(f *fakeZabbix) {
		f.templates["Moodle"] = "30"
		f.hosts["moodle-main"] = &fakeHost{id: "500", host: "moodle-main", status: "0", proxy: "0", templates: []string{"30"}}
		f.items = []map[string]string{
			{"itemid": "900", "hostid": "500", "key_": CanaryKey, "type": "2", "status": "0", "value_type": "3", "state": "0"},
			{"itemid": "901", "hostid": "500", "key_": "moodle.users.active", "type": "2", "status": "0", "value_type": "3", "state": "0"},
		}
		f.history = []map[string]string{{"itemid": "900", "clock": clock, "ns": ns}}
	}
	tests := []struct {
		name   string
		change func(*fakeZabbix)
		step   string
		want   string
		lines  []string
	}{
		{
			name: "all good",
			lines: []string{
				"ok   host moodle-main: monitored, 2 moodle.* items, templates Moodle",
				"ok   canary moodle.general.instance: processed (clock " + clock + ")",
				"ok   read-back: canary stored in the history after",
			},
		},
		{
			name:   "proxy is a warning",
			change: func(f *fakeZabbix) { f.hosts["moodle-main"].proxy = "10400" },
			lines: []string{
				"warn host moodle-main: monitored by proxy 10400: send the values to that proxy, not to the server",
				"ok   host moodle-main: monitored",
			},
		},
		{
			name:   "host missing",
			change: func(f *fakeZabbix) { delete(f.hosts, "moodle-main") },
			step:   "host", want: "not found in Zabbix",
		},
		{
			name:   "host disabled",
			change: func(f *fakeZabbix) { f.hosts["moodle-main"].status = "1" },
			step:   "host", want: "disabled in Zabbix",
		},
		{
			name:   "no moodle items",
			change: func(f *fakeZabbix) { f.items = nil },
			step:   "host", want: "no moodle.* items (linked templates: Moodle)",
		},
		{
			name:   "heartbeat not a trapper",
			change: func(f *fakeZabbix) { f.items[0]["type"] = "0" },
			step:   "host", want: "item moodle.general.instance is not a Zabbix trapper item",
		},
		{
			name:   "heartbeat disabled",
			change: func(f *fakeZabbix) { f.items[0]["status"] = "1" },
			step:   "host", want: "item moodle.general.instance is disabled",
		},
		{
			name: "value processed but never stored",
			change: func(f *fakeZabbix) {
				f.history = nil
				f.items[0]["state"] = "1"
				f.items[0]["error"] = "Value of type \"string\" is not suitable"
			},
			step: "read-back", want: "item moodle.general.instance is not supported: Value of type",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeZabbix()
			setup(f)
			if tt.change != nil {
				tt.change(f)
			}
			var out strings.Builder
			err := Check(context.Background(), CheckInput{
				DB: moodleDB(t), Dialect: measures.SQLite, Prefix: "mdl_", Host: "moodle-main",
				Sender: senderTo(t, srv.Addr), API: f, Now: func() time.Time { return checkNow },
				ReadBackTimeout: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond,
			}, &out)
			if tt.step == "" && err != nil {
				t.Fatalf("Check: %v\n%s", err, out.String())
			}
			if tt.step != "" {
				var ce *CheckError
				if !errors.As(err, &ce) || ce.Step != tt.step || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error = %v, want step %s containing %q\n%s", err, tt.step, tt.want, out.String())
				}
			}
			for _, l := range tt.lines {
				if !strings.Contains(out.String(), l) {
					t.Errorf("output lacks %q:\n%s", l, out.String())
				}
			}
			if len(f.writes) != 0 {
				t.Errorf("Check wrote through the API: %v", f.writes)
			}
		})
	}
}
