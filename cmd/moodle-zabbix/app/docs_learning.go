package app

import (
	"fmt"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// learningProfilesMarkdown documents the mapping from Moodle event names to learning profiles,
// generated from the table the event measures are built from.
func learningProfilesMarkdown() string {
	var b strings.Builder
	fmt.Fprintln(&b, "\n## Learning profiles")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "The `moodle.events.*` measures count standard log events by learning profile, from the hourly family")
	fmt.Fprintln(&b, "up (the instant family stays cheap: `moodle.general.webrequests` covers its minute). An event belongs")
	fmt.Fprintln(&b, "to the profile that lists its name (`eventname`); events of no profile are counted under `other`.")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| Profile | Event names |")
	fmt.Fprintln(&b, "|---|---|")
	for _, p := range core.LearningProfiles {
		names := make([]string, len(p.Events))
		for i, e := range p.Events {
			names[i] = "`" + e + "`"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", p.Name, strings.Join(names, ", "))
	}
	return b.String()
}

// governanceNote says how a discovery rule is limited, for docs/measures.md.
func governanceNote(d *measures.Discovery) string {
	if d.Population == "" {
		return ""
	}
	rank := d.Rank
	if rank == "" {
		rank = d.Population
	}
	limit := d.Cap
	if limit == 0 {
		limit = measures.DefaultCap
	}
	return fmt.Sprintf(" An entity whose population (column `%s`) is below the site's k-threshold is folded into the entity `%s`; "+
		"at most %d entities are discovered unless the site sets another cap, the largest by `%s` first (see privacy.md).",
		d.Population, measures.OtherID, limit, rank)
}
