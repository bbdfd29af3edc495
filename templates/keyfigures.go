package templates

// keyFigure is a single value worth a widget of its own at the top of a dashboard (7.0 and
// later): the measures an admin looks at first.
type keyFigure struct {
	key  string // the item key
	name string // the widget name
	// gaugeMax, when set, shows the value as a gauge from 0 to gaugeMax instead of a plain item
	// value.
	gaugeMax string
	// valueSize, when set, is the value's font size in percent of the widget's height, for
	// values longer than a number (a date).
	valueSize string
}

// siteFigures are the key figures of the site templates, by measure key; a template shows those
// of its own items, in this order.
var siteFigures = []keyFigure{
	{key: "moodle.users.connected.instant", name: "Users online"},
	{key: "moodle.users.active.instant", name: "Users active"},
	{key: "moodle.general.cronstate", name: "Cron state"},
	{key: "moodle.general.adhocqueuesize", name: "Ad hoc queue", gaugeMax: "2000"},
	{key: "moodle.self.lastsuccess[instant]", name: "Last run", valueSize: "20"},
}

// figureHeight is the height of a key figure widget in grid rows.
const figureHeight = 3

// figuresPerRow is the most key figures side by side; more go on a second row.
const figuresPerRow = 4

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

// figureWidget is the item value or gauge widget of a key figure (Zabbix 7.0 format). Values
// are counts or states: shown without decimals.
func (b *builder) figureWidget(template string, f keyFigure) Widget {
	fields := []WidgetField{
		{Type: "INTEGER", Name: "decimal_places", Value: "0"},
		{Type: "ITEM", Name: "itemid.0", Value: ItemRef{Host: template, Key: f.key}},
	}
	if f.valueSize != "" {
		fields = append(fields, WidgetField{Type: "INTEGER", Name: "value_size", Value: f.valueSize})
	}
	if f.gaugeMax == "" {
		// The value alone: the widget's name says what it is, and the item's own name and
		// the value's time would not fit a narrow widget.
		fields = append(fields, WidgetField{Type: "INTEGER", Name: "show.0", Value: "2"})
		return Widget{Type: "item", Name: f.name, Fields: fields}
	}
	fields = append(fields, WidgetField{Type: "STRING", Name: "max", Value: f.gaugeMax})
	return Widget{Type: "gauge", Name: f.name, Fields: fields}
}
