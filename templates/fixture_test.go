package templates

import (
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// fixtureRegistry is a small registry exercising every feature the templates use, independent
// of the real catalogue.
func fixtureRegistry(t testing.TB) *measures.Registry {
	t.Helper()
	return fixtureRegistryNamed(t, "")
}

// fixtureRegistryNamed is fixtureRegistry with prefix put before every template name, so that an
// integration test can import it next to the real templates without touching them.
func fixtureRegistryNamed(t testing.TB, prefix string) *measures.Registry {
	t.Helper()
	main := prefix + measures.DefaultTemplate
	q := func(name string) *measures.Query { return &measures.Query{Name: name, SQL: "SELECT 1 AS v"} }
	instant := q("fixture.instant")
	hourly := q("fixture.hourly")
	daily := q("fixture.daily")
	cats := q("fixture.categories")
	catRows := q("fixture.categories.rows")
	shop := &measures.Query{Name: "fixture.shop", SQL: "SELECT 1 AS v", Component: "local_shop"}
	perf := q("fixture.perf")

	disc := &measures.Discovery{
		Key:         "moodle.topcategory.discovery",
		Name:        "Top categories",
		Description: "Top-level course categories.",
		Family:      measures.Daily,
		Query:       cats,
		Macros:      []measures.LLDMacro{{Macro: "{#CATID}", Column: "id"}, {Macro: "{#CATNAME}", Column: "name"}},
		Template:    main,
	}
	maxConnected := measures.Macro{Name: "{$MOODLE.USERS.CONNECTED.MAX}", Value: "5000", Description: "Most users connected at once."}

	ms := []measures.Measure{
		measures.Measure{
			Key: "moodle.general.instance", Name: "Moodle instance", Description: "Always 1 while the site reports.",
			Family: measures.Instant, Type: measures.Unsigned, Query: instant, Column: "instance", Domain: "general",
		},
		measures.Measure{
			Key: "moodle.users.connected", Name: "Users connected", Description: "Users seen in the last 15 minutes.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "users", Query: instant, Column: "connected",
			Aggregate: measures.Sum, Domain: "users", Graph: "Users online", GraphColor: "E53935", Dashboard: true,
			Triggers: []measures.Trigger{{
				Name:       "Too many users connected on {HOST.NAME}",
				Expression: "last({item})>{$MOODLE.USERS.CONNECTED.MAX}",
				Recovery:   "last({item})<{$MOODLE.USERS.CONNECTED.MAX}*0.9",
				Severity:   measures.Warning, Description: "More users than the site is sized for.",
				Macros: []measures.Macro{maxConnected}, ManualClose: true,
			}},
		},
		measures.Measure{
			Key: "moodle.users.active.instant", Name: "Users active", Description: "Users who did something in the last minute.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "users", Query: instant, Column: "active",
			Aggregate: measures.Sum, Domain: "users", Graph: "Users online",
			Triggers: []measures.Trigger{{
				Name:       "Active users above connected maximum",
				Expression: "last({item})>{$MOODLE.USERS.CONNECTED.MAX}",
				Severity:   measures.Information,
				Macros:     []measures.Macro{{Name: "{$MOODLE.USERS.CONNECTED.MAX}", Value: "5000"}},
			}},
		},
		measures.Measure{
			Key: "moodle.general.cronstate", Name: "Cron state", Description: "0 when cron ran recently, 1 when it is late.",
			Family: measures.Instant, Type: measures.Unsigned, Query: instant, Column: "cronstate", Aggregate: measures.Max,
			ValueMap: &measures.ValueMap{Name: "Moodle cron state", Mappings: []measures.Mapping{{Value: "0", NewValue: "OK"}, {Value: "1", NewValue: "Late"}}},
		},
		measures.Measure{
			Key: "moodle.general.version", Name: "Moodle version", Description: "The version number from the config table.",
			Family: measures.Hourly, Type: measures.Text, Query: hourly, Column: "version", Legacy: true,
			Fixes: "The item was declared unsigned, so Zabbix refused the value.",
		},
		measures.Measure{
			Key: "moodle.general.release", Name: "Moodle release", Description: "The release name.",
			Family: measures.Hourly, Type: measures.Char, Query: hourly, Column: "release",
		},
		measures.Measure{
			Key: "moodle.users.registered", Name: "Registered users", Description: "Users neither deleted nor guests.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "users", Query: daily, Column: "registered",
			Aggregate: measures.Sum, Domain: "users", History: "400d", Trends: "3650d", Graph: "User accounts", Dashboard: true,
		},
		measures.Measure{
			Key: "moodle.users.ratio", Name: "Connected ratio", Description: "Share of registered users connected.",
			Family: measures.Daily, Type: measures.Float, Units: "%", Query: daily, Column: "ratio", Aggregate: measures.Avg,
			Domain: "users", Graph: "User accounts",
			Triggers: []measures.Trigger{{
				Name:       "Connected ratio high while users are connected",
				Expression: "last({item})>50 and last(/" + main + "/moodle.users.connected)>0",
				Severity:   measures.High,
			}},
		},
		measures.Measure{
			Key: "moodle.topcategory.courses[{#CATID}]", Name: "Courses in {#CATNAME}", Description: "Courses under the category.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "courses", Query: catRows, Column: "courses",
			Discovery: disc, Domain: "courses", Graph: "Category courses", Dashboard: true,
			Triggers: []measures.Trigger{{
				Name:       "No course left in {#CATNAME}",
				Expression: "last({item})=0",
				Severity:   measures.Information,
			}, {
				Name:       "Fewer courses than users in {#CATNAME}",
				Expression: "last({item})<last(/" + main + "/moodle.topcategory.users[{#CATID}])",
				Severity:   measures.Information,
			}},
		},
		measures.Measure{
			Key: "moodle.topcategory.users[{#CATID}]", Name: "Users in {#CATNAME}", Description: "Users enrolled under the category.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "users", Query: catRows, Column: "users",
			Discovery: disc, Domain: "courses", Graph: "Category courses", Aggregate: measures.Sum,
		},
		measures.Measure{
			Key: "moodle.shop.orders", Name: "Shop orders", Description: "Orders placed yesterday.",
			Family: measures.Daily, Type: measures.Unsigned, Query: shop, Column: "orders", Template: prefix + "Moodle shop",
			Aggregate: measures.Sum, Domain: "shop", Graph: "Shop", Dashboard: true,
		},
		measures.Measure{
			Key: "moodle.storage.dbsize", Name: "Database size", Description: "Bytes used by the database.",
			Family: measures.Hourly, Type: measures.Unsigned, Units: "B", Query: perf, Column: "dbsize",
			Template: prefix + "Moodle performance", Aggregate: measures.Sum, Graph: "Database size",
		},
	}
	for i := range ms {
		if ms[i].Template == "" {
			ms[i].Template = main
		}
	}
	reg := measures.NewRegistry()
	reg.MustRegister(ms...)
	return reg
}
