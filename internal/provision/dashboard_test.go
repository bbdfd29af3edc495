package provision

import "testing"

func TestSamePages(t *testing.T) {
	in := &installer{groupIDs: map[string]string{"Moodle sites": "42"}}
	spec := DashboardSpec{Name: "d", Pages: []DashboardPageSpec{{Name: "Sites", Widgets: []WidgetSpec{{
		Type: "honeycomb", Name: "Cron", X: 0, Y: 0, Width: 36, Height: 5,
		Fields: []WidgetFieldSpec{
			{Type: FieldHostGroup, Name: "groupids.0", Value: "Moodle sites"},
			{Type: FieldString, Name: "items.0", Value: "Cron state"},
		},
	}}}}}
	pages, err := in.dashboardPages(spec)
	if err != nil {
		t.Fatal(err)
	}
	// As dashboard.get answers: numbers as strings, fields in the server's order, extra ids.
	server := `[{"dashboard_pageid":"7","name":"Sites","widgets":[{"widgetid":"9","type":"honeycomb","name":"Cron",
		"x":"0","y":"0","width":"36","height":"5","view_mode":"0","fields":[
		{"type":"1","name":"items.0","value":"Cron state"},{"type":"2","name":"groupids.0","value":"42"}]}]}]`
	if same, err := samePages([]byte(server), pages); err != nil || !same {
		t.Errorf("samePages = %v, %v; want the server's copy equal to the spec", same, err)
	}
	changed := `[{"name":"Sites","widgets":[{"type":"honeycomb","name":"Cron","x":"0","y":"0","width":"36","height":"5",
		"fields":[{"type":"1","name":"items.0","value":"Cron state"},{"type":"2","name":"groupids.0","value":"43"}]}]}]`
	if same, _ := samePages([]byte(changed), pages); same {
		t.Error("samePages: a widget on another host group compares equal")
	}
	if _, err := (&installer{groupIDs: map[string]string{}}).dashboardPages(spec); err == nil {
		t.Error("a widget naming a host group outside the plan: no error")
	}
}
