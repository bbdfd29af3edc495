package templates

// keyFigure is a single value worth a widget of its own at the top of a dashboard (7.0 and
// later): the measures an admin looks at first.
type keyFigure struct {
	key  string // the item key
	name string // the widget name
	// gaugeMax, when set, shows the value as a gauge from 0 to gaugeMax instead of a plain item
	// value.
	gaugeMax string
}

// siteFigures are the key figures of the site templates, by measure key; a template shows those
// of its own items, in this order.
var siteFigures = []keyFigure{
	{key: "moodle.users.connected.instant", name: "Users online"},
	{key: "moodle.users.active.instant", name: "Users active"},
	{key: "moodle.general.cronstate", name: "Cron state"},
	{key: "moodle.general.adhocqueuesize", name: "Ad hoc queue", gaugeMax: "2000"},
	{key: "moodle.self.lastsuccess[instant]", name: "Last run"},
}

// figureHeight is the height of a key figure widget in grid rows.
const figureHeight = 3

// figuresFor returns the key figures whose item the template has, with the item keys mapped by
// itemKey (the fleet template uses its own keys).
func figuresFor(t *Template, itemKey func(string) string) []keyFigure {
	var out []keyFigure
	for _, f := range siteFigures {
		k := itemKey(f.key)
		for _, it := range t.Items {
			if it.Key == k {
				f.key = k
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// figureWidget is the item value or gauge widget of a key figure (Zabbix 7.0 format).
func (b *builder) figureWidget(template string, f keyFigure) Widget {
	item := WidgetField{Type: "ITEM", Name: "itemid.0", Value: ItemRef{Host: template, Key: f.key}}
	if f.gaugeMax == "" {
		return Widget{Type: "item", Name: f.name, Fields: []WidgetField{item}}
	}
	return Widget{Type: "gauge", Name: f.name, Fields: []WidgetField{
		item,
		{Type: "STRING", Name: "max", Value: f.gaugeMax},
	}}
}
