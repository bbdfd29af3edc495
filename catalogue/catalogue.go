// Package catalogue assembles the whole catalogue: Moodle core measures, the discovery rules and
// every contrib pack, all registered in measures.Default.
package catalogue

import (
	"github.com/moodle-zabbix/moodle-zabbix/measures"

	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/all" // contrib packs
	_ "github.com/moodle-zabbix/moodle-zabbix/discovery"   // LLD rules and prototypes
	_ "github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// Registry returns the registry holding the whole catalogue.
func Registry() *measures.Registry { return measures.Default }
