package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Widget field types of the dashboard API.
const (
	FieldInteger   = 0
	FieldString    = 1
	FieldHostGroup = 2
)

// DashboardSpec is a global dashboard as the plan wants it, such as a fleet's dashboard of
// per-site widgets (a Top hosts table, a Honeycomb state grid) that a template dashboard cannot
// hold, since those widgets select host groups.
type DashboardSpec struct {
	// Name identifies the dashboard; it is created when no dashboard has this name.
	Name  string
	Pages []DashboardPageSpec
}

// DashboardPageSpec is one page of a DashboardSpec.
type DashboardPageSpec struct {
	Name    string
	Widgets []WidgetSpec
}

// WidgetSpec is one widget: its module type ("tophosts", "honeycomb"...), grid place and fields.
type WidgetSpec struct {
	Type, Name          string
	X, Y, Width, Height int
	Fields              []WidgetFieldSpec
}

// WidgetFieldSpec is one widget field. A FieldHostGroup field names the group in Value; Install
// puts the group's id in its place.
type WidgetFieldSpec struct {
	Type  int
	Name  string
	Value string
}

// dashboards creates the plan's global dashboards, or updates those whose pages differ.
func (in *installer) dashboards(ctx context.Context, specs []DashboardSpec) error {
	for _, d := range specs {
		object := "dashboard " + d.Name
		pages, err := in.dashboardPages(d)
		if err != nil {
			return fmt.Errorf("%s: %w", object, err)
		}
		var found []struct {
			DashboardID string          `json:"dashboardid"`
			Name        string          `json:"name"`
			Pages       json.RawMessage `json:"pages"`
		}
		if err := in.api.Call(ctx, "dashboard.get", map[string]any{
			"output": []string{"dashboardid", "name"}, "selectPages": "extend", "filter": map[string]any{"name": d.Name},
		}, &found); err != nil {
			return fmt.Errorf("%s: dashboard.get: %w", object, err)
		}
		if len(found) == 0 {
			if in.opts.DryRun {
				in.add(object, "would be created", true)
				continue
			}
			if err := in.api.Call(ctx, "dashboard.create", map[string]any{
				"name": d.Name, "private": 0, "display_period": 30, "auto_start": 1, "pages": pages,
			}, nil); err != nil {
				return fmt.Errorf("%s: dashboard.create: %w", object, err)
			}
			in.log.Info("zabbix: created dashboard", "dashboard", d.Name)
			in.add(object, "created", true)
			continue
		}
		same, err := samePages(found[0].Pages, pages)
		if err != nil {
			return fmt.Errorf("%s: dashboard.get: %w", object, err)
		}
		if same {
			in.add(object, "unchanged", false)
			continue
		}
		if in.opts.DryRun {
			in.add(object, "would be updated", true)
			continue
		}
		if err := in.api.Call(ctx, "dashboard.update", map[string]any{"dashboardid": found[0].DashboardID, "pages": pages}, nil); err != nil {
			return fmt.Errorf("%s: dashboard.update: %w", object, err)
		}
		in.log.Info("zabbix: updated dashboard", "dashboard", d.Name)
		in.add(object, "updated", true)
	}
	return nil
}

// dashboardPages is the API form of the spec's pages, host group names replaced by their ids.
func (in *installer) dashboardPages(d DashboardSpec) ([]map[string]any, error) {
	var pages []map[string]any
	for _, p := range d.Pages {
		var widgets []map[string]any
		for _, w := range p.Widgets {
			var fields []map[string]any
			for _, f := range w.Fields {
				v := f.Value
				if f.Type == FieldHostGroup {
					id, ok := in.groupIDs[f.Value]
					if !ok {
						return nil, fmt.Errorf("widget %s: host group %q is not in the plan", w.Name, f.Value)
					}
					if id == "" { // a dry run would create it
						id = "0"
					}
					v = id
				}
				fields = append(fields, map[string]any{"type": f.Type, "name": f.Name, "value": v})
			}
			widgets = append(widgets, map[string]any{
				"type": w.Type, "name": w.Name, "x": w.X, "y": w.Y, "width": w.Width, "height": w.Height,
				"view_mode": 0, "fields": fields,
			})
		}
		pages = append(pages, map[string]any{"name": p.Name, "widgets": widgets})
	}
	return pages, nil
}

// samePages compares the pages dashboard.get returned with the wanted ones: page names, and
// each widget's type, name, place and fields (in any order; the server answers numbers as
// strings).
func samePages(raw json.RawMessage, want []map[string]any) (bool, error) {
	var got []struct {
		Name    string `json:"name"`
		Widgets []struct {
			Type   string `json:"type"`
			Name   string `json:"name"`
			X      any    `json:"x"`
			Y      any    `json:"y"`
			Width  any    `json:"width"`
			Height any    `json:"height"`
			Fields []struct {
				Type  any    `json:"type"`
				Name  string `json:"name"`
				Value any    `json:"value"`
			} `json:"fields"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return false, err
	}
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case int:
			return strconv.Itoa(x)
		}
		return fmt.Sprint(v)
	}
	var a, b []string
	for _, p := range got {
		for _, w := range p.Widgets {
			var fs []string
			for _, f := range w.Fields {
				fs = append(fs, str(f.Type)+"|"+f.Name+"|"+str(f.Value))
			}
			slices.Sort(fs)
			a = append(a, strings.Join([]string{p.Name, w.Type, w.Name, str(w.X), str(w.Y), str(w.Width), str(w.Height), strings.Join(fs, ";")}, "#"))
		}
	}
	for _, p := range want {
		for _, w := range p["widgets"].([]map[string]any) {
			var fs []string
			for _, f := range w["fields"].([]map[string]any) {
				fs = append(fs, str(f["type"])+"|"+str(f["name"])+"|"+str(f["value"]))
			}
			slices.Sort(fs)
			a2 := []string{str(p["name"]), str(w["type"]), str(w["name"]), str(w["x"]), str(w["y"]), str(w["width"]), str(w["height"]), strings.Join(fs, ";")}
			b = append(b, strings.Join(a2, "#"))
		}
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b), nil
}
