package app

import (
	"strconv"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/internal/provision"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// FleetDashboardName is the name of the global dashboard install makes for a fleet.
func FleetDashboardName(f *config.Fleet) string { return "Moodle sites: " + f.VisibleName() }

// fleetColumn is a Top hosts column: a measure's last value on every site.
type fleetColumn struct {
	title, key string
}

// fleetRanking are the columns of the fleet's Top hosts table, the first ranking the sites.
var fleetRanking = []fleetColumn{
	{"Users online", "moodle.users.connected.instant"},
	{"Ad hoc queue", "moodle.general.adhocqueuesize"},
	{"Cron state", "moodle.general.cronstate"},
	{"Failed task runs (hour)", "moodle.tasks.hourlyfailedruns"},
}

// fleetGrids are the Honeycomb state grids: one cell per site, green at 0, red from 1.
var fleetGrids = []fleetColumn{
	{"Cron state by site", "moodle.general.cronstate"},
	{"Failed task runs by site (hour)", "moodle.tasks.hourlyfailedruns"},
}

// fleetDashboard is the global dashboard of a fleet on Zabbix 7.0: the template dashboard of
// the fleet host shows fleet totals only, because a template dashboard's widgets cannot select
// a host group; this one ranks the sites of the fleet's group in a Top hosts table and shows
// their state in Honeycomb grids. Widgets find items by name, so a measure missing from the
// registry is left out.
func fleetDashboard(f *config.Fleet, reg *measures.Registry) provision.DashboardSpec {
	group := provision.WidgetFieldSpec{Type: provision.FieldHostGroup, Name: "groupids.0", Value: f.Group}
	str := func(name, v string) provision.WidgetFieldSpec {
		return provision.WidgetFieldSpec{Type: provision.FieldString, Name: name, Value: v}
	}
	num := func(name string, v int) provision.WidgetFieldSpec {
		return provision.WidgetFieldSpec{Type: provision.FieldInteger, Name: name, Value: strconv.Itoa(v)}
	}
	var widgets []provision.WidgetSpec
	x := 0
	for _, g := range fleetGrids {
		m := reg.Lookup(g.key)
		if m == nil {
			continue
		}
		widgets = append(widgets, provision.WidgetSpec{
			Type: "honeycomb", Name: g.title, X: x, Y: 0, Width: 36, Height: 5,
			Fields: []provision.WidgetFieldSpec{
				group, str("items.0", m.Name), num("secondary_label_decimal_places", 0),
				str("thresholds.0.color", "43A047"), str("thresholds.0.threshold", "0"),
				str("thresholds.1.color", "E53935"), str("thresholds.1.threshold", "1"),
			},
		})
		x += 36
	}
	top := []provision.WidgetFieldSpec{group,
		str("columns.0.name", "Site"), num("columns.0.data", 2), str("columns.0.base_color", "FFFFFF"),
		num("column", 1), num("order", 2), num("show_lines", 25),
	}
	n := 1
	for _, c := range fleetRanking {
		m := reg.Lookup(c.key)
		if m == nil {
			continue
		}
		p := "columns." + strconv.Itoa(n) + "."
		top = append(top, str(p+"name", c.title), num(p+"data", 1), str(p+"item", m.Name), num(p+"decimal_places", 0),
			str(p+"base_color", "FFFFFF"))
		n++
	}
	if n > 1 {
		widgets = append(widgets, provision.WidgetSpec{Type: "tophosts", Name: "Sites ranked by users online", X: 0, Y: 5, Width: 72, Height: 5, Fields: top})
	}
	return provision.DashboardSpec{Name: FleetDashboardName(f), Pages: []provision.DashboardPageSpec{{Name: "Sites", Widgets: widgets}}}
}
