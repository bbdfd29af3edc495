package core

import (
	"context"
	"fmt"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The self-monitoring measures report the product's own health: how the latest run of each
// family went (its time, length, failures and Zabbix's answers) and the spool's state. They are
// measures like any other, so the template carries their items and triggers.
func init() {
	for _, f := range measures.Families {
		registerSelf(f)
	}
	spool := &measures.Query{
		Name:      "self.spool",
		RunReport: true,
		Compute: func(_ context.Context, _ measures.Querier, p measures.Params) ([]measures.Row, error) {
			r := p.Previous
			if r == nil {
				r = &measures.RunRecord{}
			}
			return []measures.Row{{"depth": int64(r.SpoolDepth), "dropped": int64(r.SpoolDropped)}}, nil
		},
	}
	measures.MustRegister(
		measures.Measure{
			Key: "moodle.self.spool.depth", Name: "moodle-zabbix: values waiting in the spool",
			Description: "Values that could not be delivered to Zabbix and wait on disk to be replayed, after the latest instant run.",
			Family:      measures.Instant, Type: measures.Unsigned, Units: "values", Domain: "self", Template: performanceTemplate,
			Query: spool, Column: "depth", Aggregate: measures.Sum, Graph: "moodle-zabbix spool",
			Triggers: []measures.Trigger{{
				Name:       "moodle-zabbix: values wait in the spool on {HOST.NAME}",
				Expression: "last({item})>{$MOODLE.SPOOL.DEPTH.MAX}", Severity: measures.Warning,
				Description: "Zabbix could not be reached for a while; the values are kept and will be replayed with their original time stamps.",
				Macros:      []measures.Macro{{Name: "{$MOODLE.SPOOL.DEPTH.MAX}", Value: "10000", Description: "Spooled values above which a problem is raised."}},
			}},
		},
		measures.Measure{
			Key: "moodle.self.spool.dropped", Name: "moodle-zabbix: spooled values dropped",
			Description: "Values the spool discarded during the latest instant run because it exceeded its size or age bound.",
			Family:      measures.Instant, Type: measures.Unsigned, Units: "values", Domain: "self", Template: performanceTemplate,
			Query: spool, Column: "dropped", Aggregate: measures.Sum, Graph: "moodle-zabbix spool",
			Triggers: []measures.Trigger{{
				Name:       "moodle-zabbix dropped spooled values on {HOST.NAME}",
				Expression: "last({item})>0", Severity: measures.High, ManualClose: true,
				Description: "Measured values were lost because the spool reached its bound while Zabbix was unreachable.",
			}},
		},
	)
}

func registerSelf(f measures.Family) {
	fam := f.String()
	q := &measures.Query{
		Name:      "self." + fam,
		RunReport: true,
		Compute: func(_ context.Context, _ measures.Querier, p measures.Params) ([]measures.Row, error) {
			r := p.Previous
			if r == nil {
				r = &measures.RunRecord{}
			}
			last := int64(0)
			if !r.LastSuccess.IsZero() {
				last = r.LastSuccess.Unix()
			}
			return []measures.Row{{
				"lastsuccess": last, "duration": r.Duration, "measuresfailed": int64(r.MeasuresFailed),
				"sent": int64(r.Sent), "processed": int64(r.Processed), "failed": int64(r.Failed), "spooled": int64(r.Spooled),
			}}, nil
		},
	}
	key := func(name string) string { return fmt.Sprintf("moodle.self.%s[%s]", name, fam) }
	m := func(name, title, desc string, t measures.ValueType, units string, agg measures.Aggregate, trig ...measures.Trigger) measures.Measure {
		return measures.Measure{
			Key: key(name), Name: fmt.Sprintf("moodle-zabbix %s: %s", fam, title), Description: desc,
			Family: f, Type: t, Units: units, Domain: "self", Template: performanceTemplate, Query: q, Column: name,
			Aggregate: agg, Graph: "moodle-zabbix " + fam + " run", Triggers: trig,
		}
	}
	measures.MustRegister(
		m("lastsuccess", "last successful run", "When the "+fam+" family last computed and delivered every value (0 when never), as of the latest run.",
			measures.Unsigned, "unixtime", measures.Min),
		m("duration", "run duration", "How long the latest "+fam+" run took, from the first query to Zabbix's last answer.",
			measures.Float, "s", measures.Max),
		m("measuresfailed", "measures failed", "Measures whose query failed or timed out in the latest "+fam+" run.",
			measures.Unsigned, "measures", measures.Sum, measures.Trigger{
				Name:       "moodle-zabbix: " + fam + " measures failed on {HOST.NAME}",
				Expression: "last({item})>0", Severity: measures.Warning,
				Description: "Some measures could not be computed; the moodle-zabbix log names each failing key and the database error.",
			}),
		m("sent", "values sent", "Values handed to Zabbix in the latest "+fam+" run.", measures.Unsigned, "values", measures.Sum),
		m("processed", "values processed", "Values Zabbix accepted in the latest "+fam+" run.", measures.Unsigned, "values", measures.Sum),
		m("failed", "values refused", "Values Zabbix answered as failed in the latest "+fam+" run (unknown item, disabled item, or item not yet discovered).",
			measures.Unsigned, "values", measures.Sum, measures.Trigger{
				Name:       "Zabbix refused " + fam + " values from {HOST.NAME}",
				Expression: "last({item})>0", Severity: measures.Warning,
				Description: "Zabbix answered that some values failed: run 'moodle-zabbix check' to see which items are missing or disabled.",
			}),
		m("spooled", "values spooled", "Values of the latest "+fam+" run kept on disk because Zabbix could not be reached.", measures.Unsigned, "values", measures.Sum),
	)
}
