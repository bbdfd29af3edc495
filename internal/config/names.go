package config

import (
	"errors"
	"fmt"
)

// VisibleName is the name the frontend shows for a fleet host: its name, or its host name.
func (f *Fleet) VisibleName() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Host
}

// CheckNames refuses host names that Zabbix would refuse on install: Zabbix keeps host and
// template names (technical and visible) in one name space, so a site or fleet host whose name
// or visible name equals a template's, or two hosts with one visible name, fail with an API
// error in the middle of an install. templates are the names of the templates the install
// imports. Each problem is an *Error naming the file, line and key; nil when all is well.
func (c *Config) CheckNames(templates []string) error {
	tpl := map[string]bool{}
	for _, t := range templates {
		tpl[t] = true
	}
	var errs []error
	add := func(path, format string, args ...any) {
		e := &Error{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)}
		if c.ix != nil {
			e.Line = c.ix.line(path)
		}
		errs = append(errs, e)
	}
	visible := map[string]string{} // visible name -> path of its key
	check := func(hostPath, host, namePath, name string) {
		if tpl[host] {
			add(hostPath, "%q is the name of a template moodle-zabbix imports; Zabbix refuses a host of that name: choose another", host)
		}
		if name != host && tpl[name] {
			add(namePath, "%q is the name of a template moodle-zabbix imports; Zabbix refuses a host with that visible name: choose another (for example %q)", name, name+" hosts")
		}
		if first, dup := visible[name]; dup {
			add(namePath, "visible name %q is already used by %s; Zabbix refuses two hosts with one visible name", name, first)
			return
		}
		visible[name] = namePath
	}
	for i := range c.Sites {
		p := fmt.Sprintf("sites[%d].host", i)
		check(p, c.Sites[i].Host, p, c.Sites[i].Host)
	}
	for i := range c.Fleets {
		f := &c.Fleets[i]
		hostPath := fmt.Sprintf("fleets[%d].host", i)
		namePath := fmt.Sprintf("fleets[%d].name", i)
		if f.Name == "" {
			namePath = hostPath
		}
		check(hostPath, f.Host, namePath, f.VisibleName())
	}
	return errors.Join(errs...)
}
