package catalogue_test

import (
	"strconv"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// usrConfigInt returns the integer value of a {config} setting, and whether it is set.
func usrConfigInt(x *X, name string) (int64, bool) {
	for _, c := range x.M.Config {
		if c.Name == name {
			n, err := strconv.ParseInt(c.Value, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// usrLocal reports whether u belongs to the local MNet host named by mnet_localhost_id.
func usrLocal(x *X, u fixture.User) bool {
	id, ok := usrConfigInt(x, "mnet_localhost_id")
	return ok && u.MnetHostID == id
}

// usrGuest returns the guest account's id (0 when the site names none).
func usrGuest(x *X) int64 {
	id, _ := usrConfigInt(x, "siteguest")
	return id
}

// usrRoleClasses says which role classes a user belongs to.
type usrRoleClasses struct{ student, teacher, staff bool }

func usrInSet(set measures.RoleSet, r fixture.Role) bool {
	for _, a := range set.Archetypes {
		if a == r.Archetype {
			return true
		}
	}
	for _, s := range set.Shortnames {
		if s == r.ShortName {
			return true
		}
	}
	return false
}

// usrClasses computes every user's role classes from the role assignments: student and
// teacher through an assignment in a course context, staff through one in any context.
func usrClasses(x *X) map[int64]usrRoleClasses {
	roles := map[int64]fixture.Role{}
	for _, r := range x.M.Roles {
		roles[r.ID] = r
	}
	levels := map[int64]int{}
	for _, c := range x.M.Contexts {
		levels[c.ID] = c.ContextLevel
	}
	out := map[int64]usrRoleClasses{}
	for _, ra := range x.M.RoleAssignments {
		r, ok := roles[ra.RoleID]
		if !ok {
			continue
		}
		lvl, ok := levels[ra.ContextID]
		if !ok {
			continue
		}
		c := out[ra.UserID]
		if lvl == fixture.ContextCourse && usrInSet(x.P.Roles.Students, r) {
			c.student = true
		}
		if lvl == fixture.ContextCourse && usrInSet(x.P.Roles.Teachers, r) {
			c.teacher = true
		}
		if usrInSet(x.P.Roles.Staff, r) {
			c.staff = true
		}
		out[ra.UserID] = c
	}
	return out
}

// usrOwnEvents returns the window's log rows done by a real account as itself: not the guest,
// not user 0, not under "log in as", not by a command-line script.
func usrOwnEvents(x *X) []fixture.Log {
	var out []fixture.Log
	for _, l := range x.M.Logs {
		if x.in(l.TimeCreated) && usrOwn(x, l) {
			out = append(out, l)
		}
	}
	return out
}

// usrOwn reports whether a log row is a user's own activity: done by a real account (not the
// guest, not user 0) as itself (no "log in as"), through the site (not a command-line script).
// Deleted and remote users' rows count: they were done by a person.
func usrOwn(x *X, l fixture.Log) bool {
	return l.RealUserID == 0 && l.UserID != 0 && l.UserID != usrGuest(x) && l.Origin != "cli"
}

// usrLoginStats counts the window's login events and distinct users who logged in, overall and
// per role class, and distinct active users overall and per role class.
type usrLoginStats struct {
	logins                                 int
	distinct, students, teachers, staff    int
	active, activeStudents, activeTeachers int
}

func usrStats(x *X) usrLoginStats {
	cls := usrClasses(x)
	var s usrLoginStats
	logged := map[int64]bool{}
	active := map[int64]bool{}
	for _, l := range usrOwnEvents(x) {
		active[l.UserID] = true
		if l.Action == "loggedin" {
			s.logins++
			logged[l.UserID] = true
		}
	}
	for u := range logged {
		s.distinct++
		c := cls[u]
		if c.student {
			s.students++
		}
		if c.teacher {
			s.teachers++
		}
		if c.staff {
			s.staff++
		}
	}
	for u := range active {
		s.active++
		c := cls[u]
		if c.student {
			s.activeStudents++
		}
		if c.teacher {
			s.activeTeachers++
		}
	}
	return s
}

// usrOnline counts non-deleted users whose last access lies in the lookback d before the
// window's end.
func usrOnline(x *X, d time.Duration) int {
	n := 0
	for _, u := range x.M.Users {
		if u.Deleted == 0 && x.since(u.LastAccess, d) {
			n++
		}
	}
	return n
}

// usrCountLocal counts the local users that keep returns true for.
func usrCountLocal(x *X, keep func(u fixture.User) bool) int {
	n := 0
	for _, u := range x.M.Users {
		if usrLocal(x, u) && keep(u) {
			n++
		}
	}
	return n
}

// usrCountClass counts the usable (non-deleted, non-suspended) local users of a role class.
func usrCountClass(x *X, pick func(c usrRoleClasses) bool) int {
	cls := usrClasses(x)
	return usrCountLocal(x, func(u fixture.User) bool {
		return u.Deleted == 0 && u.Suspended == 0 && pick(cls[u.ID])
	})
}

func init() {
	connected := func(x *X) any { return usrOnline(x, 15*time.Minute) }
	active := func(x *X) any { return usrOnline(x, time.Hour) }
	expect("moodle.users.connected", connected)
	expect("moodle.users.active", active)
	expect("moodle.users.connected.instant", connected)
	expect("moodle.users.active.instant", active)

	expect("moodle.users.registered", func(x *X) any {
		return usrCountLocal(x, func(u fixture.User) bool { return u.Deleted == 0 })
	})
	expect("moodle.users.deleted", func(x *X) any {
		return usrCountLocal(x, func(u fixture.User) bool { return u.Deleted == 1 })
	})
	expect("moodle.users.suspended", func(x *X) any {
		return usrCountLocal(x, func(u fixture.User) bool { return u.Deleted == 0 && u.Suspended == 1 })
	})
	alive := func(x *X) any {
		return usrCountLocal(x, func(u fixture.User) bool { return u.Deleted == 0 && u.Suspended == 0 })
	}
	expect("moodle.users.alive", alive)
	expect("moodle.users.monthlyalive", alive)
	expect("moodle.users.students", func(x *X) any {
		return usrCountClass(x, func(c usrRoleClasses) bool { return c.student })
	})
	expect("moodle.users.teachers", func(x *X) any {
		return usrCountClass(x, func(c usrRoleClasses) bool { return c.teacher })
	})
	expect("moodle.users.staff", func(x *X) any {
		return usrCountClass(x, func(c usrRoleClasses) bool { return c.staff })
	})

	for _, period := range []string{"daily", "monthly"} {
		expect("moodle.users."+period+"logins", func(x *X) any { return usrStats(x).logins })
		expect("moodle.users."+period+"distinctlogins", func(x *X) any { return usrStats(x).distinct })
		expect("moodle.users."+period+"distinctstudentlogins", func(x *X) any { return usrStats(x).students })
		expect("moodle.users."+period+"distinctteacherlogins", func(x *X) any { return usrStats(x).teachers })
		expect("moodle.users."+period+"distinctstafflogins", func(x *X) any { return usrStats(x).staff })
	}
	expect("moodle.users.monthlyactive", func(x *X) any { return usrStats(x).active })
	expect("moodle.users.monthlyactivestudents", func(x *X) any { return usrStats(x).activeStudents })
	expect("moodle.users.monthlyactiveteachers", func(x *X) any { return usrStats(x).activeTeachers })
}
