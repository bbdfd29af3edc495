package measures

import "maps"

// Clone returns a registry holding the same measures and discovery rules as r, to which more
// can be added (measures declared in configuration files, for example) without changing r.
// The definitions themselves are shared, not copied.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return &Registry{
		measures:    append([]*Measure(nil), r.measures...),
		byKey:       maps.Clone(r.byKey),
		discoveries: append([]*Discovery(nil), r.discoveries...),
		discByKey:   maps.Clone(r.discByKey),
		queryFamily: maps.Clone(r.queryFamily),
		queryNames:  maps.Clone(r.queryNames),
		queryDisc:   maps.Clone(r.queryDisc),
	}
}
