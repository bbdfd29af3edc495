package app

import (
	"fmt"
	"slices"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
	"github.com/moodle-zabbix/moodle-zabbix/measures/custom"
)

// Catalogues is the catalogue a configuration asks for: the built-in measures plus the custom
// measures its files declare.
type Catalogues struct {
	// All holds every measure any site runs: templates, install, docs and checks use it.
	All *measures.Registry
	// Sites holds the registry each site runs, by site name, when any custom measure is
	// configured; it is empty otherwise and every site runs All.
	Sites map[string]*measures.Registry
	// Templates lists, by site name, the custom measure templates linked to that site's host.
	Templates map[string][]string
}

// LoadCatalogues reads the custom measure files the configuration lists (top-level
// custom_measures for every site, sites[].custom_measures for one) and registers them on top of
// base. Every problem is reported with its file and line. Without custom measures, All is base.
func LoadCatalogues(cfg *config.Config, base *measures.Registry) (*Catalogues, error) {
	cat := &Catalogues{All: base, Sites: map[string]*measures.Registry{}, Templates: map[string][]string{}}
	common, err := custom.Load(cfg.CustomMeasures)
	if err != nil {
		return nil, err
	}
	var all []*custom.File
	seen := map[string]bool{}
	addAll := func(fs []*custom.File) {
		for _, f := range fs {
			if !seen[f.Name] {
				seen[f.Name] = true
				all = append(all, f)
			}
		}
	}
	addAll(common)
	own := make([][]*custom.File, len(cfg.Sites))
	for i := range cfg.Sites {
		fs, err := custom.Load(cfg.Sites[i].CustomMeasures)
		if err != nil {
			return nil, err // each line names its file and line
		}
		own[i] = fs
		addAll(fs)
	}
	if len(all) == 0 {
		return cat, nil
	}
	cat.All = base.Clone()
	if err := custom.Register(cat.All, all); err != nil {
		return nil, err
	}
	for i := range cfg.Sites {
		sc := &cfg.Sites[i]
		var files []*custom.File
		names := map[string]bool{}
		for _, f := range append(slices.Clone(common), own[i]...) {
			if !names[f.Name] {
				names[f.Name] = true
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			cat.Sites[sc.Name] = base // not All: that holds the other sites' own measures
			continue
		}
		reg := base.Clone()
		if err := custom.Register(reg, files); err != nil {
			return nil, fmt.Errorf("site %s: %w", sc.Name, err)
		}
		cat.Sites[sc.Name] = reg
		for _, f := range files {
			if !slices.Contains(cat.Templates[sc.Name], f.Template) {
				cat.Templates[sc.Name] = append(cat.Templates[sc.Name], f.Template)
			}
		}
	}
	return cat, nil
}

// withCustomTemplates returns a copy of cfg in which each site also lists the templates of
// its custom measures, so that install links them to the site's host.
func withCustomTemplates(cfg *config.Config, cat *Catalogues) *config.Config {
	if len(cat.Templates) == 0 {
		return cfg
	}
	c := *cfg
	c.Sites = slices.Clone(cfg.Sites)
	for i := range c.Sites {
		s := &c.Sites[i]
		s.Templates = slices.Clone(s.Templates)
		for _, t := range cat.Templates[s.Name] {
			if !slices.Contains(s.Templates, t) {
				s.Templates = append(s.Templates, t)
			}
		}
	}
	return &c
}

// useSiteRegistries makes each site listed in cat.Sites run its own registry.
func (rt *Runtime) useSiteRegistries(cat *Catalogues) {
	for _, s := range rt.sites {
		s.registry = cat.Sites[s.cfg.Name]
	}
}

// registryFor returns the registry site s runs.
func (rt *Runtime) registryFor(s *siteRuntime) *measures.Registry {
	if s.registry != nil {
		return s.registry
	}
	return rt.registry
}

// listingCatalogue returns the catalogue the measures and templates commands describe: the
// built-in one, plus the custom measures of the configuration at path when one is given.
func listingCatalogue(path string) (*measures.Registry, error) {
	if path == "" {
		return catalogue.Registry(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	cat, err := LoadCatalogues(cfg, catalogue.Registry())
	if err != nil {
		return nil, err
	}
	return cat.All, nil
}
