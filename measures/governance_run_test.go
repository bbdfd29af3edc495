package measures

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRunnerGovernsDiscovery runs a rule over its cap through the runner: the most active
// entity is kept, the other goes into "other" with its values, and one warning line says so.
func TestRunnerGovernsDiscovery(t *testing.T) {
	db := openTestDB(t)
	auths := &Discovery{Key: "moodle.discovery.g", Name: "Auth", Description: "Auth plugins in use.", Family: Daily,
		Query: &Query{Name: "g.auths", SQL: `SELECT auth, COUNT(*) AS users, SUM(lastaccess) AS act
  FROM {user} WHERE deleted = 0 GROUP BY auth ORDER BY auth`},
		Macros: []LLDMacro{{Macro: "{#AUTH}", Column: "auth"}}, Population: "users", Rank: "act"}
	r := NewRegistry()
	r.MustRegister(Measure{Key: "moodle.g.users[{#AUTH}]", Name: "Users", Description: "Users per auth.", Family: Daily,
		Type: Unsigned, Query: auths.Query, Column: "users", Discovery: auths, Aggregate: Sum})
	var logs bytes.Buffer
	runner := &Runner{Registry: r, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	site := &Site{Name: "s", DB: db, Dialect: SQLite, Prefix: "t_", KThreshold: 2, Caps: map[string]int{auths.Key: 1}}
	b := runner.Run(context.Background(), site, Daily, time.Unix(86400*3, 0))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range b.Values {
		got[v.Key] = v.Value
	}
	want := map[string]string{
		"moodle.discovery.g":     `[{"{#AUTH}":"manual"},{"{#AUTH}":"other"}]`,
		"moodle.g.users[manual]": "2",
		"moodle.g.users[other]":  "2",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if n := strings.Count(logs.String(), "discovery rule over its cap"); n != 1 {
		t.Errorf("%d warnings, want one:\n%s", n, logs.String())
	}
	if len(b.Governance) != 1 || len(b.Governance[0].Capped) != 1 || b.Governance[0].Capped[0].ID != "ldap" {
		t.Errorf("governance %+v, want ldap capped", b.Governance)
	}
}
