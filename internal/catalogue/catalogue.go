// Package catalogue assembles the whole catalogue: Moodle core measures, the discovery rules and
// every contrib pack, all registered in measures.Default.
package catalogue

import (
	"github.com/moodle-zabbix/moodle-zabbix/measures"

	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/all" // contrib packs
	_ "github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// Registry returns the registry holding the whole catalogue.
func Registry() *measures.Registry { return measures.Default }

// Exclusion is a report_zabbix key this product deliberately does not send, with the reason.
type Exclusion struct {
	Key    string
	Reason string
}

// Excluded lists the report_zabbix keys left out of the catalogue and why.
var Excluded = []Exclusion{
	{"moodle.general.started", "It reported an administrator's flag or the result of arbitrary SQL run every minute, not a property of the site; arbitrary SQL is a security risk and the flag is better kept as a Zabbix host macro or maintenance period."},
	{"moodle.courses.nostudentslist", "A comma-separated list of course ids is an inventory, not a metric: Zabbix cannot graph or trigger on it, and it grows without bound. The count moodle.courses.nostudents is kept."},
	{"moodle.courses.noteacherslist", "Same as nostudentslist: an id list, not a metric. The count moodle.courses.noteachers is kept."},
}
