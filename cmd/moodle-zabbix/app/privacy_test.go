package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/sender"
	"github.com/moodle-zabbix/moodle-zabbix/sender/sendertest"
)

// TestSmallSegmentsNeverLeaveTheSite runs the daily family of the synthetic site and delivers it
// through the sender protocol to a loopback trapper, once with the privacy threshold off (k=1)
// and once with the default (k=5). The cohort with two members and the component used by two
// people reach the trapper in the first run only: in the second, neither their LLD entity nor
// any key or value of theirs is received.
func TestSmallSegmentsNeverLeaveTheSite(t *testing.T) {
	ctx := context.Background()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 5, 0, 0, paris)
	db, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	model := fixture.Generate(7, fixture.Tiny, now)
	if err := model.Load(ctx, db, "sqlite", "mdl_"); err != nil {
		t.Fatal(err)
	}
	var small string
	for _, c := range model.Cohorts {
		if c.Name == fixture.SmallCohortName {
			small = strconv.FormatInt(c.ID, 10)
		}
	}
	if small == "" {
		t.Fatal("the fixture has no small cohort")
	}
	smallKeys := []string{"moodle.cohort.members[" + small + "]", "moodle.component.users[" + fixture.SmallComponent + "]"}

	receive := func(k int) []sender.Item {
		trapper := sendertest.NewServer(nil)
		defer trapper.Close()
		client, err := sender.NewClient(sender.Options{Servers: []string{trapper.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		site := &measures.Site{Name: "fixture", Host: "fixture", DB: db, Dialect: measures.SQLite, Prefix: "mdl_",
			Location: paris, KThreshold: k}
		b := (&measures.Runner{Registry: catalogue.Registry()}).Run(ctx, site, measures.Daily, now)
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		d := (&Deliverer{Sender: PlainSender{S: client}}).Deliver(ctx, "fixture", b)
		if d.Err != nil || d.Failed > 0 {
			t.Fatalf("delivery: %+v", d)
		}
		return trapper.Items()
	}
	keysAndEntities := func(items []sender.Item) map[string]string {
		out := map[string]string{}
		for _, it := range items {
			out[it.Key] = it.Value
			if strings.HasPrefix(it.Key, "moodle.discovery.") {
				var objs []map[string]string
				if err := json.Unmarshal([]byte(it.Value), &objs); err != nil {
					t.Fatalf("%s: %v", it.Key, err)
				}
				for _, o := range objs {
					for mac, v := range o {
						out[it.Key+" "+mac+"="+v] = ""
					}
				}
			}
		}
		return out
	}

	open := keysAndEntities(receive(1))
	for _, k := range smallKeys {
		if v, ok := open[k]; !ok || v == "0" {
			t.Fatalf("with k=1, %s = %q: the small segment must be there for this test to mean anything", k, v)
		}
	}
	if _, ok := open["moodle.discovery.cohorts {#COHORTNAME}="+fixture.SmallCohortName]; !ok {
		t.Fatal("with k=1, the small cohort is not discovered")
	}

	closed := keysAndEntities(receive(5))
	for _, k := range smallKeys {
		if v, ok := closed[k]; ok {
			t.Errorf("with k=5, %s = %s reached the trapper", k, v)
		}
	}
	for k := range closed {
		if strings.Contains(k, "{#COHORTID}="+small) || strings.Contains(k, fixture.SmallCohortName) ||
			strings.Contains(k, "{#COMPONENT}="+fixture.SmallComponent) || strings.Contains(k, "["+fixture.SmallComponent+"]") {
			t.Errorf("with k=5, %q reached the trapper", k)
		}
	}
	if len(closed) < 50 {
		t.Errorf("with k=5 only %d keys reached the trapper: the rest of the family must still be sent", len(closed))
	}
}

// auditNow is the clock of the audit shown in docs/privacy.md.
var auditNow = time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)

const auditBegin, auditEnd = "<!-- audit:begin -->\n```text\n", "```\n<!-- audit:end -->"

// TestAuditDocIsGenerated keeps the demo audit in docs/privacy.md equal to what the audit
// command prints for the daily family of the demo site.
func TestAuditDocIsGenerated(t *testing.T) {
	var out bytes.Buffer
	if err := AuditDemo(context.Background(), &out, auditNow, []measures.Family{measures.Daily}, nil); err != nil {
		t.Fatalf("audit: %v", err)
	}
	text := out.String()
	for _, want := range []string{"suppressed \"" + fixture.SmallComponent + "\"", "(" + fixture.SmallCohortName + ")", "leave the site"} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo audit does not show %q:\n%s", want, text)
		}
	}
	path := filepath.Join("..", "..", "..", "docs", "privacy.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, auditBegin), strings.Index(s, auditEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, auditBegin, auditEnd)
	}
	want := s[:i] + auditBegin + text + s[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s != want {
		t.Errorf("the audit in docs/privacy.md is out of date; run: go test ./cmd/moodle-zabbix/app -run TestAuditDoc -update")
	}
}
