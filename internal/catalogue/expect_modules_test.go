package catalogue_test

// Independent computations of the module measures (measures/core/modules.go).

// modulesNotDeleted counts the course modules not being deleted whose module type satisfies
// keep (by module name).
func modulesNotDeleted(x *X, keep func(name string) bool) int {
	names := map[int64]string{}
	for _, m := range x.M.Modules {
		names[m.ID] = m.Name
	}
	n := 0
	for _, cm := range x.M.CourseModules {
		name, ok := names[cm.Module]
		if ok && cm.DeletionInProgress == 0 && keep(name) {
			n++
		}
	}
	return n
}

// pluginInstalled reports whether config_plugins has a version row for the plugin.
func pluginInstalled(x *X, plugin string) bool {
	for _, p := range x.M.ConfigPlugins {
		if p.Plugin == plugin && p.Name == "version" {
			return true
		}
	}
	return false
}

func init() {
	expect("moodle.modules.all", func(x *X) any {
		return modulesNotDeleted(x, func(string) bool { return true })
	})
	for _, name := range []string{"assign", "forum", "quiz", "resource"} {
		expect("moodle.modules."+name+".all", func(x *X) any {
			return modulesNotDeleted(x, func(n string) bool { return n == name })
		})
	}
	for _, name := range []string{"hvp", "mplayer"} {
		expect("moodle.modules."+name+".all", func(x *X) any {
			if !pluginInstalled(x, "mod_"+name) {
				return Skipped{}
			}
			return modulesNotDeleted(x, func(n string) bool { return n == name })
		})
	}
}
