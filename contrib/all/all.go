// Package all imports every contrib measure pack, so that a program or a test that imports it
// sees the whole catalogue.
package all

import (
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/block/xp"              // block_xp: "Moodle xp" template
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/local/shop"            // local_shop: "Moodle shop" template
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/mod/attendance"        // mod_attendance: "Moodle attendance" template
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/mod/customcert"        // mod_customcert: "Moodle customcert" template
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/mod/hvp"               // mod_hvp: "Moodle hvp" template
	_ "github.com/moodle-zabbix/moodle-zabbix/contrib/mod/learningtimecheck" // mod_learningtimecheck: "Moodle learningtimecheck" template
)
