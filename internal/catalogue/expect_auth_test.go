package catalogue_test

import (
	"sort"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// authCountUsable counts non-deleted, non-suspended users of one authentication plugin.
func authCountUsable(x *X, auth string) int {
	n := 0
	for _, u := range x.M.Users {
		if u.Deleted == 0 && u.Suspended == 0 && u.Auth == auth {
			n++
		}
	}
	return n
}

// authPlugins returns the authentication plugins of non-deleted users, sorted.
func authPlugins(x *X) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range x.M.Users {
		if u.Deleted == 0 && !seen[u.Auth] {
			seen[u.Auth] = true
			out = append(out, u.Auth)
		}
	}
	sort.Strings(out)
	return out
}

// authActivity returns, per plugin, the distinct non-deleted users with an event of their own
// in the window and their login events.
func authActivity(x *X) (active, logins map[string]int) {
	users := map[int64]fixture.User{}
	for _, u := range x.M.Users {
		users[u.ID] = u
	}
	active, logins = map[string]int{}, map[string]int{}
	seen := map[int64]bool{}
	for _, l := range usrOwnEvents(x) {
		u, ok := users[l.UserID]
		if !ok || u.Deleted != 0 {
			continue
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			active[u.Auth]++
		}
		if l.Action == "loggedin" {
			logins[u.Auth]++
		}
	}
	return active, logins
}

// authSegs governs the authentication plugins: their population is their non-deleted accounts,
// and nobody has two plugins.
func authSegs(x *X) governedSegs {
	var segs []seg
	for _, a := range authPlugins(x) {
		n := 0.0
		for _, u := range x.M.Users {
			if u.Deleted == 0 && u.Auth == a {
				n++
			}
		}
		segs = append(segs, seg{id: a, macros: map[string]string{"{#AUTH}": a}, pop: n, rank: n})
	}
	return governSegs("moodle.discovery.auth", segs, []string{"{#AUTH}"}, true)
}

func init() {
	expect("moodle.auth.weeklymanualusers", func(x *X) any { return authCountUsable(x, "manual") })
	expect("moodle.auth.weeklyldapusers", func(x *X) any { return authCountUsable(x, "ldap") })
	expect("moodle.auth.weeklycasusers", func(x *X) any { return authCountUsable(x, "cas") })

	expect("moodle.discovery.auth", func(x *X) any { return authSegs(x).lld() })
	expect("moodle.auth.users[{#AUTH}]", func(x *X) any {
		return authSegs(x).per(func(a string) float64 { return float64(authCountUsable(x, a)) })
	})
	expect("moodle.auth.activeusers[{#AUTH}]", func(x *X) any {
		active, _ := authActivity(x)
		return authSegs(x).per(func(a string) float64 { return float64(active[a]) })
	})
	expect("moodle.auth.logins[{#AUTH}]", func(x *X) any {
		_, logins := authActivity(x)
		return authSegs(x).per(func(a string) float64 { return float64(logins[a]) })
	})
}
