package zabbixapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Zabbix API version such as 6.0.14.
type Version struct {
	// Major is the first number, e.g. 6.
	Major int
	// Minor is the second number, e.g. 0.
	Minor int
	// Patch is the third number, e.g. 14; 0 when absent.
	Patch int
	// Raw is the version as the server sent it, e.g. "7.2.0alpha1".
	Raw string
}

// ParseVersion parses "MAJOR.MINOR[.PATCH[suffix]]".
func ParseVersion(s string) (Version, error) {
	v := Version{Raw: s}
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		digits := p
		if i == len(parts)-1 {
			// The last part may carry a suffix: "0alpha1", "0rc2".
			end := 0
			for end < len(p) && p[end] >= '0' && p[end] <= '9' {
				end++
			}
			digits = p[:end]
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version %q: part %d is not a number", s, i+1)
		}
		*nums[i] = n
	}
	return v, nil
}

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// String returns the version as the server sent it, or MAJOR.MINOR.PATCH.
func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}
