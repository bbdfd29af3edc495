package templates

import (
	"strconv"
	"strings"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestCatalogueDashboardPages checks that every dashboard widget has data at its page's time
// scale: a graph sits on the page of its slowest family, weekly and monthly graphs are on the
// "Months" page, and on 7.0 each graph widget carries the period suited to its family.
func TestCatalogueDashboardPages(t *testing.T) {
	for _, v := range []string{"6.0", "7.0"} {
		e, err := Build(catalogue.Registry(), Options{ZabbixVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		family := map[string]measures.Family{} // template/key -> family
		for _, tpl := range e.Templates {
			for _, it := range tpl.Items {
				for _, tag := range it.Tags {
					if tag.Tag == "family" {
						f, _ := measures.ParseFamily(tag.Value)
						family[tpl.Template+"/"+it.Key] = f
					}
				}
			}
		}
		graphFamily := map[string]measures.Family{} // template/graph -> slowest family
		for _, g := range e.Graphs {
			var f measures.Family
			for i, gi := range g.GraphItems {
				fi := family[gi.Item.Host+"/"+gi.Item.Key]
				if i == 0 {
					f = fi
				}
				f = slowest(f, fi)
			}
			graphFamily[g.GraphItems[0].Item.Host+"/"+g.Name] = f
		}
		months := 0
		for _, tpl := range e.Templates {
			for _, d := range tpl.Dashboards {
				for _, p := range d.Pages {
					var scale *timeScale
					for i := range timeScales {
						if strings.HasPrefix(p.Name, timeScales[i].page) {
							scale = &timeScales[i]
						}
					}
					if scale == nil {
						t.Errorf("%s %s: page %q is not a time scale", v, d.Name, p.Name)
						continue
					}
					for _, w := range p.Widgets {
						if w.Type != "graph" && w.Type != "GRAPH_CLASSIC" {
							continue
						}
						ref := w.Fields[0].Value.(GraphRef)
						f, ok := graphFamily[ref.Host+"/"+ref.Name]
						if !ok {
							t.Errorf("%s %s: widget %s names no graph", v, d.Name, w.Name)
							continue
						}
						found := false
						for _, pf := range scale.families {
							found = found || pf == f
						}
						if !found {
							t.Errorf("%s %s: %s graph %q on page %q", v, d.Name, f, w.Name, p.Name)
						}
						if scale.page == "Months" {
							months++
						}
						if v != "7.0" {
							continue
						}
						period := ""
						for _, fl := range w.Fields {
							if fl.Name == "time_period.from" {
								period = fl.Value.(string)
							}
						}
						if period != familyPeriod[f] {
							t.Errorf("%s %s: widget %s has period %q, want %q for %s values", v, d.Name, w.Name, period, familyPeriod[f], f)
						}
					}
				}
			}
		}
		if months == 0 {
			t.Errorf("%s: no weekly or monthly graph on any Months page", v)
		}
	}
}

// TestDashboardPagesFitZabbix checks that no widget of any dashboard page reaches past the
// height of a Zabbix dashboard page, which makes an import fail, in every export format; the
// fleet template's daily graphs fill more than one page.
func TestDashboardPagesFitZabbix(t *testing.T) {
	for _, v := range []string{"6.0", "6.2", "6.4", "7.0"} {
		e := catalogueExport(t, v)
		split := false
		for _, tpl := range e.Templates {
			for _, d := range tpl.Dashboards {
				for _, p := range d.Pages {
					if strings.Contains(p.Name, ", 2") {
						split = true
					}
					for _, w := range p.Widgets {
						y, _ := strconv.Atoi(w.Y)
						h, _ := strconv.Atoi(w.Height)
						if y+h > maxPageRows {
							t.Errorf("%s %s page %q: widget %q reaches row %d, past %d", v, d.Name, p.Name, w.Name, y+h, maxPageRows)
						}
					}
				}
			}
		}
		if !split {
			t.Errorf("%s: no dashboard needed a second page for one time scale; the test no longer proves the split", v)
		}
	}
}
