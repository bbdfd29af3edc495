package templates

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// dashGraph is a graph placed on a dashboard.
type dashGraph struct {
	name      string
	prototype bool
	family    measures.Family // the slowest family of the graph's measures; chooses its page
}

// timeScale is one dashboard page: the families whose graphs it shows, and the time period
// that suits them.
type timeScale struct {
	// page is the page name; hint is added to it where the widgets cannot carry their own
	// time period (before 7.0), telling which period to pick in the time selector.
	page, hint string
	families   []measures.Family
}

// timeScales are the dashboard pages, from the fastest family to the slowest.
var timeScales = []timeScale{
	{page: "Now", hint: "last hour", families: []measures.Family{measures.Instant}},
	{page: "Days", hint: "last 30 days", families: []measures.Family{measures.Hourly, measures.Daily}},
	{page: "Months", hint: "last year", families: []measures.Family{measures.Weekly, measures.Monthly}},
}

// familyPeriod is the time period a widget of the family shows on Zabbix 7.0, where each
// widget can have its own: long enough for several values, short enough to see them apart.
var familyPeriod = map[measures.Family]string{
	measures.Instant: "now-3h",
	measures.Hourly:  "now-7d",
	measures.Daily:   "now-30d",
	measures.Weekly:  "now-6M",
	measures.Monthly: "now-1y",
}

// slowest returns the family of the longer period.
func slowest(a, b measures.Family) measures.Family {
	for _, f := range measures.Families {
		if f == a {
			return b
		}
		if f == b {
			return a
		}
	}
	return a
}

// longScale reports whether graphs of family f go on the dashboard's "Months" page whether or
// not their measures ask for the dashboard: weekly and monthly values are few, and outside
// that page (and their item's history) nothing shows them, Latest data hiding values older
// than its history display period.
func longScale(f measures.Family) bool {
	return f == measures.Weekly || f == measures.Monthly
}

// pointFamily reports whether values of family f are few enough in any sensible period to be
// drawn as points rather than joined by lines (a line between two daily values says nothing).
func pointFamily(f measures.Family) bool {
	return f == measures.Daily || f == measures.Weekly || f == measures.Monthly
}

// setDrawType draws the graph's lines as dots for families of sparse values.
func setDrawType(g *Graph, f measures.Family) {
	if !pointFamily(f) {
		return
	}
	for i := range g.GraphItems {
		g.GraphItems[i].DrawType = "DOTTED_LINE"
	}
}

// dashboard builds a dashboard of one page per time scale (see timeScales) that has graphs,
// plus, on 7.0, the template's key figures as item value and gauge widgets on the first page.
// Graphs go two per row, graph prototypes one per row.
func (b *builder) dashboard(template, name string, graphs []dashGraph, figures []keyFigure) Dashboard {
	d := Dashboard{UUID: UUID(template, "dashboard", name), Name: name}
	for i, ts := range timeScales {
		var onPage []dashGraph
		for _, g := range graphs {
			for _, f := range ts.families {
				if g.family == f {
					onPage = append(onPage, g)
				}
			}
		}
		var figs []keyFigure
		if i == 0 && b.fl.wideGrid {
			figs = figures
		}
		if len(onPage) == 0 && len(figs) == 0 {
			continue
		}
		pageName := ts.page
		if !b.fl.wideGrid {
			pageName += " (" + ts.hint + ")"
		}
		figureRows := (len(figs) + figuresPerRow - 1) / figuresPerRow * figureHeight
		for n, chunk := range splitPage(onPage, figureRows) {
			name := pageName
			if n > 0 { // key figures go on a time scale's first page only
				name, figs = fmt.Sprintf("%s, %d", pageName, n+1), nil
			}
			d.Pages = append(d.Pages, DashboardPage{Name: name, Widgets: b.pageWidgets(template, chunk, figs)})
		}
	}
	if b.fl.wideGrid {
		addReferences(&d)
	}
	return d
}

// maxPageRows is the height of a Zabbix dashboard page, in grid rows: an import whose widgets
// reach further is refused.
const maxPageRows = 64

// splitPage cuts one time scale's graphs into as many pages as Zabbix's page height needs, in
// the order pageWidgets lays them out (graphs two per row, then graph prototypes one per row,
// below figureRows of key figures on the first page). It returns one page at least.
func splitPage(graphs []dashGraph, figureRows int) [][]dashGraph {
	const height = 5
	sort.SliceStable(graphs, func(i, j int) bool { return graphs[i].prototype != graphs[j].prototype && !graphs[i].prototype })
	var pages [][]dashGraph
	var page []dashGraph
	used, half := figureRows, false // rows used; whether a graph waits for its row's second half
	for _, g := range graphs {
		need := height
		if !g.prototype && half {
			need = 0
		}
		if used+need > maxPageRows {
			pages = append(pages, page)
			page, used, half = nil, 0, false
			need = height
		}
		page = append(page, g)
		used += need
		half = !g.prototype && !half
	}
	return append(pages, page)
}

// pageWidgets lays out one page: key figures in a row of small widgets, then graphs two per row
// and graph prototypes one per row.
func (b *builder) pageWidgets(template string, graphs []dashGraph, figures []keyFigure) []Widget {
	const cols, half, height = 24, 12, 5
	scale := 1
	if b.fl.wideGrid {
		scale = 3
	}
	sort.SliceStable(graphs, func(i, j int) bool { return graphs[i].prototype != graphs[j].prototype && !graphs[i].prototype })
	var widgets []Widget
	x, y := 0, 0
	place := func(w *Widget, width, h int) {
		if x+width > cols {
			x, y = 0, y+h
		}
		w.Width = strconv.Itoa(width * scale)
		w.Height = strconv.Itoa(h)
		if x > 0 {
			w.X = strconv.Itoa(x * scale)
		}
		if y > 0 {
			w.Y = strconv.Itoa(y)
		}
		x += width
	}
	if len(figures) > 0 {
		width := cols / min(len(figures), figuresPerRow)
		for _, f := range figures {
			w := b.figureWidget(template, f)
			place(&w, width, figureHeight)
			widgets = append(widgets, w)
		}
		x, y = 0, y+figureHeight
	}
	for _, g := range graphs {
		w := Widget{Name: g.name}
		width := half
		typ, fieldType := "GRAPH_CLASSIC", "GRAPH"
		if g.prototype {
			width = cols
			typ, fieldType = "GRAPH_PROTOTYPE", "GRAPH_PROTOTYPE"
		}
		if b.fl.moduleWidgets {
			typ = map[string]string{"GRAPH_CLASSIC": "graph", "GRAPH_PROTOTYPE": "graphprototype"}[typ]
		}
		w.Type = typ
		place(&w, width, height)
		field := "graphid"
		if b.fl.wideGrid {
			field = "graphid.0"
		}
		w.Fields = []WidgetField{{Type: fieldType, Name: field, Value: GraphRef{Host: template, Name: g.name}}}
		if b.fl.wideGrid {
			w.Fields = append(w.Fields,
				WidgetField{Type: "STRING", Name: "time_period.from", Value: familyPeriod[g.family]},
				WidgetField{Type: "STRING", Name: "time_period.to", Value: "now"})
		}
		widgets = append(widgets, w)
	}
	b.orderWidgets(widgets)
	return widgets
}

// orderWidgets puts widgets in the order Zabbix exports them, so that a re-import reports no
// change: by name (ignoring case) up to 6.4, by position (column, then row) from 7.0. On 7.0 each graph widget
// gets its reference afterwards (addReferences).
func (b *builder) orderWidgets(widgets []Widget) {
	if !b.fl.wideGrid {
		// Ignoring case, as Zabbix does: "moodle-zabbix weekly run" comes before "Quiz attempts".
		sort.SliceStable(widgets, func(i, j int) bool {
			a, c := strings.ToLower(widgets[i].Name), strings.ToLower(widgets[j].Name)
			if a != c {
				return a < c
			}
			return widgets[i].Name < widgets[j].Name
		})
		return
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	sort.SliceStable(widgets, func(i, j int) bool {
		if xi, xj := num(widgets[i].X), num(widgets[j].X); xi != xj {
			return xi < xj
		}
		return num(widgets[i].Y) < num(widgets[j].Y)
	})
}

// addReferences gives each graph widget of a 7.0 dashboard its reference, unique within the
// dashboard, in page and export order, and orders every widget's fields as 7.0 exports them.
func addReferences(d *Dashboard) {
	ref := 0
	for p := range d.Pages {
		ws := d.Pages[p].Widgets
		for i := range ws {
			if ws[i].Type == "graph" || ws[i].Type == "graphprototype" {
				ws[i].Fields = append(ws[i].Fields, WidgetField{Type: "STRING", Name: "reference", Value: widgetReference(ref)})
				ref++
			}
			// Zabbix 7.0 exports a widget's fields ordered by name.
			sort.SliceStable(ws[i].Fields, func(a, c int) bool { return ws[i].Fields[a].Name < ws[i].Fields[c].Name })
		}
	}
}
