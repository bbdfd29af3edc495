package config

import (
	"fmt"
	"os"
)

// customMeasures resolves the paths of custom measure files (or directories) against the
// configuration file's directory and checks that each exists; the files themselves are read
// and validated when the program starts (measures/custom), with their own file:line errors.
func (v *validator) customMeasures(p string, paths []string) {
	seen := map[string]bool{}
	for i := range paths {
		ip := fmt.Sprintf("%s[%d]", p, i)
		if paths[i] == "" {
			v.addf(ip, "empty path")
			continue
		}
		paths[i] = resolvePath(v.dir, paths[i])
		if seen[paths[i]] {
			v.addf(ip, "%s is listed twice", paths[i])
		}
		seen[paths[i]] = true
		fi, err := os.Stat(paths[i])
		switch {
		case err != nil:
			v.addf(ip, "%v", err)
		case !fi.IsDir() && !fi.Mode().IsRegular():
			v.addf(ip, "%s: neither a file nor a directory", paths[i])
		}
	}
}
