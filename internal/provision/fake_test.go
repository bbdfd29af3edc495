package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// fakeZabbix is an in-memory stand-in for the few API methods Install uses, enough to test
// the flow (what is read, what is written, in which case) without a server. The integration
// tests run the same flow against a real Zabbix 6.0.
type fakeZabbix struct {
	version   string
	groups    map[string]string // name -> id
	templates map[string]string // host -> id
	hosts     map[string]*fakeHost
	// compare is what configuration.importcompare answers until an import happens.
	compare string
	nextID  int
	// writes lists every method called that changes something.
	writes []string
	// items are the hosts' items: itemid, hostid, key_, type, status, value_type, state, error.
	items []map[string]string
	// history holds the stored values: itemid, clock, ns.
	history []map[string]string
}

type fakeHost struct {
	id, host, name, description, status string
	proxy                               string
	groups                              []string // ids
	templates                           []string // ids
	macros                              []map[string]string
}

func newFakeZabbix() *fakeZabbix {
	return &fakeZabbix{
		version:   "6.0.14",
		groups:    map[string]string{"Linux servers": "2"},
		templates: map[string]string{"Linux by Zabbix agent": "10001"},
		hosts:     map[string]*fakeHost{},
		compare:   `[]`,
		nextID:    100,
	}
}

func (f *fakeZabbix) id() string { f.nextID++; return strconv.Itoa(f.nextID) }

func (f *fakeZabbix) nameOf(m map[string]string, id string) string {
	for n, i := range m {
		if i == id {
			return n
		}
	}
	return ""
}

func (f *fakeZabbix) Call(_ context.Context, method string, params, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	var p map[string]any
	var list []map[string]any
	if len(raw) > 0 && raw[0] == '[' {
		_ = json.Unmarshal(raw, &list)
	} else {
		_ = json.Unmarshal(raw, &p)
	}
	var out any
	switch method {
	case "apiinfo.version":
		out = f.version
	case "hostgroup.get":
		var res []map[string]string
		for _, n := range filterNames(p, "name") {
			if id, ok := f.groups[n]; ok {
				res = append(res, map[string]string{"groupid": id, "name": n})
			}
		}
		out = res
	case "hostgroup.create":
		f.writes = append(f.writes, method)
		id := f.id()
		f.groups[p["name"].(string)] = id
		out = map[string]any{"groupids": []string{id}}
	case "template.get":
		var res []map[string]string
		for _, n := range filterNames(p, "host") {
			if id, ok := f.templates[n]; ok {
				res = append(res, map[string]string{"templateid": id, "host": n})
			}
		}
		out = res
	case "configuration.importcompare":
		out = json.RawMessage(f.compare)
	case "configuration.import":
		f.writes = append(f.writes, method)
		f.compare = `[]`
		for _, t := range []string{"Moodle", "Moodle performance", "Moodle fleet"} {
			if _, ok := f.templates[t]; !ok {
				f.templates[t] = f.id()
			}
		}
		out = true
	case "host.get":
		_, old := p["selectGroups"]
		_, recent := p["selectHostGroups"]
		if f.version >= "6.2" && old || f.version < "6.2" && recent {
			return fmt.Errorf("fake %s: host.get with the wrong group selector", f.version)
		}
		res := []map[string]any{}
		for _, n := range filterNames(p, "host") {
			h, ok := f.hosts[n]
			if !ok {
				continue
			}
			var groups, tpls []map[string]string
			for _, g := range h.groups {
				groups = append(groups, map[string]string{"groupid": g, "name": f.nameOf(f.groups, g)})
			}
			for _, t := range h.templates {
				tpls = append(tpls, map[string]string{"templateid": t, "host": f.nameOf(f.templates, t)})
			}
			groupsMember := "groups"
			if f.version >= "6.2" {
				groupsMember = "hostgroups"
			}
			res = append(res, map[string]any{
				"hostid": h.id, "host": h.host, "name": h.name, "description": h.description,
				"status": h.status, groupsMember: groups, "parentTemplates": tpls, "macros": h.macros,
				"proxy_hostid": h.proxy,
			})
		}
		out = res
	case "host.create":
		f.writes = append(f.writes, method)
		if _, ok := p["interfaces"]; ok {
			return fmt.Errorf("unexpected interfaces")
		}
		host := p["host"].(string)
		h := &fakeHost{id: f.id(), host: host, name: host, status: "0"}
		if n, ok := p["name"].(string); ok {
			h.name = n
		}
		if d, ok := p["description"].(string); ok {
			h.description = d
		}
		h.groups = refIDs(p["groups"], "groupid")
		h.templates = refIDs(p["templates"], "templateid")
		for _, m := range asList(p["macros"]) {
			h.macros = append(h.macros, map[string]string{"hostmacroid": f.id(), "macro": m["macro"].(string), "value": m["value"].(string), "type": "0"})
		}
		f.hosts[host] = h
		out = map[string]any{"hostids": []string{h.id}}
	case "host.update":
		f.writes = append(f.writes, method)
		h := f.byID(p["hostid"].(string))
		if n, ok := p["name"].(string); ok {
			h.name = n
		}
		if d, ok := p["description"].(string); ok {
			h.description = d
		}
		if _, ok := p["groups"]; ok {
			return fmt.Errorf("host.update with groups would replace them")
		}
		out = map[string]any{"hostids": []string{h.id}}
	case "host.massadd":
		f.writes = append(f.writes, method)
		for _, id := range refIDs(p["hosts"], "hostid") {
			h := f.byID(id)
			h.groups = append(h.groups, refIDs(p["groups"], "groupid")...)
			h.templates = append(h.templates, refIDs(p["templates"], "templateid")...)
		}
		out = map[string]any{"hostids": []string{}}
	case "usermacro.create":
		f.writes = append(f.writes, method)
		for _, m := range list {
			h := f.byID(m["hostid"].(string))
			h.macros = append(h.macros, map[string]string{"hostmacroid": f.id(), "macro": m["macro"].(string), "value": m["value"].(string), "type": "0"})
		}
		out = map[string]any{"hostmacroids": []string{}}
	case "usermacro.update":
		f.writes = append(f.writes, method)
		for _, m := range list {
			for _, h := range f.hosts {
				for _, hm := range h.macros {
					if hm["hostmacroid"] == m["hostmacroid"] {
						hm["value"] = m["value"].(string)
					}
				}
			}
		}
		out = map[string]any{"hostmacroids": []string{}}
	case "item.get":
		var res []map[string]string
		for _, it := range f.items {
			if ids, ok := p["hostids"].([]any); ok && !slices.Contains(ids, any(it["hostid"])) {
				continue
			}
			if ids, ok := p["itemids"].([]any); ok && !slices.Contains(ids, any(it["itemid"])) {
				continue
			}
			if search, ok := p["search"].(map[string]any); ok && !strings.HasPrefix(it["key_"], search["key_"].(string)) {
				continue
			}
			if filter, ok := p["filter"].(map[string]any); ok && !slices.Contains(filter["key_"].([]any), any(it["key_"])) {
				continue
			}
			res = append(res, it)
		}
		if p["countOutput"] == true {
			out = strconv.Itoa(len(res))
		} else {
			out = res
		}
	case "history.get":
		var res []map[string]string
		from := strconv.FormatFloat(p["time_from"].(float64), 'f', 0, 64)
		for _, h := range f.history {
			if slices.Contains(p["itemids"].([]any), any(h["itemid"])) && h["clock"] == from {
				res = append(res, h)
			}
		}
		out = res
	default:
		return fmt.Errorf("fake: method %s not implemented", method)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, result)
}

func (f *fakeZabbix) byID(id string) *fakeHost {
	for _, h := range f.hosts {
		if h.id == id {
			return h
		}
	}
	panic("fake: no host " + id)
}

// groupNames returns a host's group names, sorted.
func (f *fakeZabbix) groupNames(h *fakeHost) string {
	var out []string
	for _, g := range h.groups {
		out = append(out, f.nameOf(f.groups, g))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// templateNames returns a host's template names, sorted.
func (f *fakeZabbix) templateNames(h *fakeHost) string {
	var out []string
	for _, t := range h.templates {
		out = append(out, f.nameOf(f.templates, t))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func filterNames(p map[string]any, field string) []string {
	filter, _ := p["filter"].(map[string]any)
	var out []string
	for _, v := range filter[field].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func asList(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		out = append(out, e.(map[string]any))
	}
	return out
}

func refIDs(v any, field string) []string {
	var out []string
	for _, m := range asList(v) {
		out = append(out, m[field].(string))
	}
	return out
}
