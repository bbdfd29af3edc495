package templates

// The types below model the part of a Zabbix configuration export that this package writes.
// Field names and order follow what Zabbix itself exports, so that a generated file reads like
// one exported from the frontend. Every value is a string, as in Zabbix exports; empty fields
// are omitted and Zabbix applies its defaults on import.

// Export is one Zabbix configuration export: the document under the zabbix_export key.
type Export struct {
	// Version is the export format version ("6.0", "6.2", "6.4" or "7.0").
	Version string `yaml:"version"`
	// Groups lists the groups of a 6.0 export; 6.2 and later split them into TemplateGroups and
	// HostGroups.
	Groups         []Group    `yaml:"groups,omitempty"`
	TemplateGroups []Group    `yaml:"template_groups,omitempty"`
	HostGroups     []Group    `yaml:"host_groups,omitempty"`
	Templates      []Template `yaml:"templates,omitempty"`
	// Triggers holds the triggers whose expression uses more than one item.
	Triggers []Trigger `yaml:"triggers,omitempty"`
	// Graphs holds the template graphs (Zabbix exports them at the top level).
	Graphs []Graph `yaml:"graphs,omitempty"`
}

// Group is a host group or a template group.
type Group struct {
	UUID string `yaml:"uuid"`
	Name string `yaml:"name"`
}

// Template is one Zabbix template.
type Template struct {
	UUID        string `yaml:"uuid"`
	Template    string `yaml:"template"`
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Groups names the template groups the template belongs to.
	Groups         []NameRef       `yaml:"groups"`
	Items          []Item          `yaml:"items,omitempty"`
	DiscoveryRules []DiscoveryRule `yaml:"discovery_rules,omitempty"`
	Tags           []Tag           `yaml:"tags,omitempty"`
	Macros         []Macro         `yaml:"macros,omitempty"`
	Dashboards     []Dashboard     `yaml:"dashboards,omitempty"`
	ValueMaps      []ValueMap      `yaml:"valuemaps,omitempty"`
}

// NameRef refers to another object by name (a group, a value map).
type NameRef struct {
	Name string `yaml:"name"`
}

// Item is an item or an item prototype.
type Item struct {
	UUID      string `yaml:"uuid"`
	Name      string `yaml:"name"`
	Type      string `yaml:"type,omitempty"`
	Key       string `yaml:"key"`
	Delay     string `yaml:"delay,omitempty"`
	History   string `yaml:"history,omitempty"`
	Trends    string `yaml:"trends,omitempty"`
	ValueType string `yaml:"value_type,omitempty"`
	Units     string `yaml:"units,omitempty"`
	// Params holds the formula of a calculated item.
	Params      string   `yaml:"params,omitempty"`
	Description string   `yaml:"description,omitempty"`
	ValueMap    *NameRef `yaml:"valuemap,omitempty"`
	Tags        []Tag    `yaml:"tags,omitempty"`
	// Triggers are the item's own triggers (item) or trigger prototypes (item prototype): those
	// whose expression uses this item only.
	Triggers          []Trigger `yaml:"triggers,omitempty"`
	TriggerPrototypes []Trigger `yaml:"trigger_prototypes,omitempty"`
}

// DiscoveryRule is a low-level discovery rule with its prototypes.
type DiscoveryRule struct {
	UUID              string    `yaml:"uuid"`
	Name              string    `yaml:"name"`
	Type              string    `yaml:"type,omitempty"`
	Key               string    `yaml:"key"`
	Delay             string    `yaml:"delay,omitempty"`
	Lifetime          string    `yaml:"lifetime,omitempty"`
	Description       string    `yaml:"description,omitempty"`
	ItemPrototypes    []Item    `yaml:"item_prototypes,omitempty"`
	TriggerPrototypes []Trigger `yaml:"trigger_prototypes,omitempty"`
	GraphPrototypes   []Graph   `yaml:"graph_prototypes,omitempty"`
}

// Trigger is a trigger or a trigger prototype.
type Trigger struct {
	UUID               string `yaml:"uuid"`
	Expression         string `yaml:"expression"`
	RecoveryMode       string `yaml:"recovery_mode,omitempty"`
	RecoveryExpression string `yaml:"recovery_expression,omitempty"`
	Name               string `yaml:"name"`
	// OpData is the operational data shown beside the problem, such as the item's last value.
	OpData       string              `yaml:"opdata,omitempty"`
	Priority     string              `yaml:"priority,omitempty"`
	Description  string              `yaml:"description,omitempty"`
	ManualClose  string              `yaml:"manual_close,omitempty"`
	Dependencies []TriggerDependency `yaml:"dependencies,omitempty"`
	Tags         []Tag               `yaml:"tags,omitempty"`
}

// TriggerDependency names a trigger that, while in problem, suppresses the dependent one.
type TriggerDependency struct {
	Name       string `yaml:"name"`
	Expression string `yaml:"expression"`
}

// Tag is a Zabbix tag.
type Tag struct {
	Tag   string `yaml:"tag"`
	Value string `yaml:"value"`
}

// Macro is a template user macro with its default value.
type Macro struct {
	Macro       string `yaml:"macro"`
	Value       string `yaml:"value"`
	Description string `yaml:"description,omitempty"`
}

// ValueMap maps raw values to text.
type ValueMap struct {
	UUID     string    `yaml:"uuid"`
	Name     string    `yaml:"name"`
	Mappings []Mapping `yaml:"mappings"`
}

// Mapping is one entry of a value map.
type Mapping struct {
	Value    string `yaml:"value"`
	NewValue string `yaml:"newvalue"`
}

// Graph is a graph or a graph prototype.
type Graph struct {
	UUID       string      `yaml:"uuid"`
	Name       string      `yaml:"name"`
	GraphItems []GraphItem `yaml:"graph_items"`
}

// GraphItem is one line of a graph.
type GraphItem struct {
	SortOrder string `yaml:"sortorder,omitempty"`
	// DrawType is the line style; empty is Zabbix's default, a single line.
	DrawType string  `yaml:"drawtype,omitempty"`
	Color    string  `yaml:"color"`
	Item     ItemRef `yaml:"item"`
}

// ItemRef names an item by its host (here the template) and key.
type ItemRef struct {
	Host string `yaml:"host"`
	Key  string `yaml:"key"`
}

// Dashboard is a template dashboard.
type Dashboard struct {
	UUID  string          `yaml:"uuid"`
	Name  string          `yaml:"name"`
	Pages []DashboardPage `yaml:"pages"`
}

// DashboardPage is one page of a dashboard.
type DashboardPage struct {
	Name    string   `yaml:"name,omitempty"`
	Widgets []Widget `yaml:"widgets"`
}

// Widget is one dashboard widget. Sizes are in grid cells: the grid is 24 columns wide up to
// Zabbix 6.4 and 72 from 7.0.
type Widget struct {
	Type   string        `yaml:"type"`
	Name   string        `yaml:"name,omitempty"`
	X      string        `yaml:"x,omitempty"`
	Y      string        `yaml:"y,omitempty"`
	Width  string        `yaml:"width"`
	Height string        `yaml:"height"`
	Fields []WidgetField `yaml:"fields"`
}

// WidgetField is one setting of a widget. Value is a string, a GraphRef for graph fields or an
// ItemRef for item fields.
type WidgetField struct {
	Type  string `yaml:"type"`
	Name  string `yaml:"name"`
	Value any    `yaml:"value"`
}

// GraphRef names a graph or graph prototype by its host (the template) and name.
type GraphRef struct {
	Host string `yaml:"host"`
	Name string `yaml:"name"`
}
