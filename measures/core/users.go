package core

import (
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Conventions shared by the user measures:
//   - "Local" users are those whose mnethostid is the site's own MNet host, read from
//     {config} mnet_localhost_id inside the query (never assumed to be 1).
//   - The guest account is the user named by {config} siteguest; activity and login counts leave
//     it out, account counts keep it (as report_zabbix did, for continuity).
//   - A user is a student, teacher or staff member when they hold a role assignment selected by
//     the site's RoleMap (archetype or short name): students and teachers in a course context,
//     staff in any context. The classification is the one of collection time.
//   - Login counts read the standard log's user_loggedin events (action 'loggedin'). Moodle logs
//     "log in as" with action 'loggedinas', so those sessions are never counted as logins.
//   - Activity and login counts leave out every log row with a realuserid: those were done by
//     someone logged in as the user, not by the user. They also leave out the rows of user 0 and
//     of command-line scripts: OwnEventSQL is the one rule, shared with the per-course,
//     per-category and per-authentication-plugin counts.

// localHostSQL selects the local MNet host id from {config}; the cast makes the comparison with
// the integer mnethostid valid on PostgreSQL.
const localHostSQL = `(SELECT CAST(value AS DECIMAL(20,0)) FROM {config} WHERE name = 'mnet_localhost_id')`

// guestSQL selects the guest account's id from {config}, or 0 when the site has none.
const guestSQL = `COALESCE((SELECT MAX(CAST(value AS DECIMAL(20,0))) FROM {config} WHERE name = 'siteguest'), 0)`

// notDeletedSQL is true when the account whose id is in column col is not marked deleted.
// Moodle never removes a user row (deleting an account marks it), so this agrees with a join to
// the non-deleted users; written as NOT EXISTS, MariaDB and PostgreSQL read the deleted
// accounts once through the index on deleted instead of looking up the user of every row, at
// least at 50,000 users. MariaDB may instead run it as a dependent subquery, a user lookup per
// row, as it did at 30 million cohort memberships; a statement that meets that joins
// deletedUsersSQL instead.
func notDeletedSQL(col string) string {
	return "NOT EXISTS (SELECT 1 FROM {user} du WHERE du.id = " + col + " AND du.deleted = 1)"
}

// deletedUsersSQL is a derived table of the deleted accounts' ids, for a statement that leaves
// them out with "LEFT JOIN deletedUsersSQL du ON du.id = col WHERE du.id IS NULL". DISTINCT keeps
// MariaDB from merging it into the join: it reads the ids once from the index on deleted and
// probes them in memory, where notDeletedSQL can become a user lookup per row on a large site.
const deletedUsersSQL = `(SELECT DISTINCT du.id FROM {user} du WHERE du.deleted = 1)`

// roleFlagsSQL returns one row per user holding any role assignment, with 0/1 flags saying
// whether one of the assignments makes them a student or a teacher (course context) or staff
// (any context). Its six ? take roleArgs.
const roleFlagsSQL = `SELECT ra.userid,
       MAX(CASE WHEN ctx.contextlevel = 50 AND (r.archetype IN (?) OR r.shortname IN (?)) THEN 1 ELSE 0 END) AS student,
       MAX(CASE WHEN ctx.contextlevel = 50 AND (r.archetype IN (?) OR r.shortname IN (?)) THEN 1 ELSE 0 END) AS teacher,
       MAX(CASE WHEN r.archetype IN (?) OR r.shortname IN (?) THEN 1 ELSE 0 END) AS staff
  FROM {role_assignments} ra
  JOIN {role} r ON r.id = ra.roleid
  JOIN {context} ctx ON ctx.id = ra.contextid
 GROUP BY ra.userid`

// roleFlagsOfLogSQL is roleFlagsSQL for the users of the log rows of a window only (its nine
// ? take roleArgs, then the window's start and end, then the action matched with LIKE): a
// site's role_assignments hold millions of rows and a window's users are a share of its users,
// so reading only their assignments (index on role_assignments.userid) replaces a pass over
// the whole table. Each user's flags are the same; users outside the window were never joined.
// The window's users are a derived table joined to the assignments, not an IN (subquery):
// MariaDB turned the IN into a probe per assignment and read all 1.66 million of them (1.8 s
// against 0.28 s; PostgreSQL plans both forms alike).
const roleFlagsOfLogSQL = `SELECT ra.userid,
       MAX(CASE WHEN ctx.contextlevel = 50 AND (r.archetype IN (?) OR r.shortname IN (?)) THEN 1 ELSE 0 END) AS student,
       MAX(CASE WHEN ctx.contextlevel = 50 AND (r.archetype IN (?) OR r.shortname IN (?)) THEN 1 ELSE 0 END) AS teacher,
       MAX(CASE WHEN r.archetype IN (?) OR r.shortname IN (?) THEN 1 ELSE 0 END) AS staff
  FROM (SELECT DISTINCT wl.userid FROM {logstore_standard_log} wl
         WHERE wl.timecreated >= ? AND wl.timecreated < ? AND wl.action LIKE ?) lu
  JOIN {role_assignments} ra ON ra.userid = lu.userid
  JOIN {role} r ON r.id = ra.roleid
  JOIN {context} ctx ON ctx.id = ra.contextid
 GROUP BY ra.userid`

// roleClassUsersSQL counts the non-deleted, non-suspended local users holding a role of one
// class, with a semi-join on role_assignments; its two ? take the class's archetypes and short
// names. inCourse keeps only assignments in a course context (students and teachers).
func roleClassUsersSQL(inCourse bool) string {
	ctx, level := "", ""
	if inCourse {
		ctx = `
                          JOIN {context} ctx ON ctx.id = ra.contextid`
		level = "ctx.contextlevel = 50 AND "
	}
	return `SELECT COUNT(*) FROM {user} u
         WHERE u.deleted = 0 AND u.suspended = 0 AND u.mnethostid = ` + localHostSQL + `
           AND u.id IN (SELECT ra.userid FROM {role_assignments} ra
                          JOIN {role} r ON r.id = ra.roleid` + ctx + `
                         WHERE ` + level + `(r.archetype IN (?) OR r.shortname IN (?)))`
}

// roleArgs returns the arguments of roleFlagsSQL: each class's archetypes then short names, as
// IN lists (an empty list matches nothing).
func roleArgs(p measures.Params) []any {
	return []any{
		p.Roles.Students.Archetypes, p.Roles.Students.Shortnames,
		p.Roles.Teachers.Archetypes, p.Roles.Teachers.Shortnames,
		p.Roles.Staff.Archetypes, p.Roles.Staff.Shortnames,
	}
}

// onlineSQL counts non-deleted users by last access, for the connected (15 min) and active
// (60 min) lookbacks ending at the window end; both use the index on user.lastaccess.
const onlineSQL = `SELECT SUM(CASE WHEN lastaccess >= ? THEN 1 ELSE 0 END) AS connected,
       COUNT(*) AS active
  FROM {user}
 WHERE deleted = 0 AND lastaccess >= ? AND lastaccess < ?`

// onlineMySQL is onlineSQL for MariaDB and MySQL. Their planner reads the whole user table
// for onlineSQL once the hour's users are about a tenth of the accounts (the index range
// would need a primary-key lookup per user to read deleted). Here the range reads only the
// lastaccess index (which holds the id) and the deleted accounts are left out through the
// index on deleted, which the planner reads once into a temporary table: 2.4 ms against 28 ms at
// 50,000 users of whom 4,900 were seen in the hour.
var onlineMySQL = `SELECT SUM(CASE WHEN r.lastaccess >= ? THEN 1 ELSE 0 END) AS connected,
       COUNT(*) AS active
  FROM {user} r
 WHERE r.lastaccess >= ? AND r.lastaccess < ?
   AND ` + notDeletedSQL("r.id")

// onlineDialects holds the statements of the online counts that differ by engine.
var onlineDialects = map[measures.Dialect]string{measures.MySQL: onlineMySQL}

func onlineArgs(p measures.Params) []any {
	return []any{p.Before(15 * time.Minute), p.Before(time.Hour), p.To()}
}

const onlineCost = "A range of the index on user.lastaccess covering the last hour (MariaDB and MySQL: that index alone, less the deleted accounts read from the index on deleted)."

var usersOnlineHourly = &measures.Query{
	Name:     "users.online.hourly",
	SQL:      onlineSQL,
	Dialects: onlineDialects,
	Args:     onlineArgs,
	Cost:     onlineCost,
}

var usersOnlineInstant = &measures.Query{
	Name:     "users.online.instant",
	SQL:      onlineSQL,
	Dialects: onlineDialects,
	Args:     onlineArgs,
	Cost:     onlineCost,
}

var usersAccounts = &measures.Query{
	Name: "users.accounts",
	SQL: `SELECT SUM(CASE WHEN u.deleted = 0 THEN 1 ELSE 0 END) AS registered,
       SUM(CASE WHEN u.deleted = 1 THEN 1 ELSE 0 END) AS deleted,
       SUM(CASE WHEN u.deleted = 0 AND u.suspended = 1 THEN 1 ELSE 0 END) AS suspended,
       SUM(CASE WHEN u.deleted = 0 AND u.suspended = 0 THEN 1 ELSE 0 END) AS alive,
       SUM(CASE WHEN u.deleted = 0 AND u.suspended = 0 AND rf.student = 1 THEN 1 ELSE 0 END) AS students,
       SUM(CASE WHEN u.deleted = 0 AND u.suspended = 0 AND rf.teacher = 1 THEN 1 ELSE 0 END) AS teachers,
       SUM(CASE WHEN u.deleted = 0 AND u.suspended = 0 AND rf.staff = 1 THEN 1 ELSE 0 END) AS staff
  FROM {user} u
  LEFT JOIN (` + roleFlagsSQL + `) rf ON rf.userid = u.id
 WHERE u.mnethostid = ` + localHostSQL,
	// MariaDB joins the grouped role assignments to each user as a lateral derived table,
	// which reads every assignment through the index on userid (17 s at 50,000 users and 1.7
	// million assignments); a semi-join per role class stops at each user's first matching
	// assignment (2 s). PostgreSQL hashes the grouped assignments once, which the semi-joins
	// would triple.
	Dialects: map[measures.Dialect]string{measures.MySQL: `SELECT a.registered, a.deleted, a.suspended, a.alive,
       (` + roleClassUsersSQL(true) + `) AS students,
       (` + roleClassUsersSQL(true) + `) AS teachers,
       (` + roleClassUsersSQL(false) + `) AS staff
  FROM (SELECT SUM(CASE WHEN u.deleted = 0 THEN 1 ELSE 0 END) AS registered,
               SUM(CASE WHEN u.deleted = 1 THEN 1 ELSE 0 END) AS deleted,
               SUM(CASE WHEN u.deleted = 0 AND u.suspended = 1 THEN 1 ELSE 0 END) AS suspended,
               SUM(CASE WHEN u.deleted = 0 AND u.suspended = 0 THEN 1 ELSE 0 END) AS alive
          FROM {user} u
         WHERE u.mnethostid = ` + localHostSQL + `) a`},
	Args: roleArgs,
	Cost: "One pass over the user table and one over role_assignments grouped by user (MariaDB and MySQL: a semi-join per role class, index on role_assignments.userid), once a day.",
}

// loginsSQL counts the login events of a window, overall and by role class.
var loginsSQL = `SELECT COUNT(*) AS logins,
       COUNT(DISTINCT l.userid) AS distinctlogins,
       COUNT(DISTINCT CASE WHEN rf.student = 1 THEN l.userid END) AS distinctstudentlogins,
       COUNT(DISTINCT CASE WHEN rf.teacher = 1 THEN l.userid END) AS distinctteacherlogins,
       COUNT(DISTINCT CASE WHEN rf.staff = 1 THEN l.userid END) AS distinctstafflogins
  FROM {logstore_standard_log} l
  LEFT JOIN (` + roleFlagsOfLogSQL + `) rf ON rf.userid = l.userid
 WHERE l.timecreated >= ? AND l.timecreated < ?
   AND l.action = 'loggedin' AND ` + OwnEventSQL("l")

// logRoleArgs returns the arguments of a query joining roleFlagsOfLogSQL for the log rows of
// the window whose action is like action, then the window again.
func logRoleArgs(action string) func(p measures.Params) []any {
	return func(p measures.Params) []any {
		return append(roleArgs(p), p.From(), p.To(), action, p.From(), p.To())
	}
}

var usersLoginsDaily = &measures.Query{
	Name: "users.logins.daily",
	SQL:  loginsSQL,
	Args: logRoleArgs("loggedin"),
	Cost: "One day of log rows through the index on timecreated, joined to the role assignments of the users who logged in that day (index on role_assignments.userid).",
}

var usersActivityMonthly = &measures.Query{
	Name: "users.activity.monthly",
	SQL: `SELECT COUNT(DISTINCT l.userid) AS active,
       COUNT(DISTINCT CASE WHEN rf.student = 1 THEN l.userid END) AS activestudents,
       COUNT(DISTINCT CASE WHEN rf.teacher = 1 THEN l.userid END) AS activeteachers,
       SUM(CASE WHEN l.action = 'loggedin' THEN 1 ELSE 0 END) AS logins,
       COUNT(DISTINCT CASE WHEN l.action = 'loggedin' THEN l.userid END) AS distinctlogins,
       COUNT(DISTINCT CASE WHEN l.action = 'loggedin' AND rf.student = 1 THEN l.userid END) AS distinctstudentlogins,
       COUNT(DISTINCT CASE WHEN l.action = 'loggedin' AND rf.teacher = 1 THEN l.userid END) AS distinctteacherlogins,
       COUNT(DISTINCT CASE WHEN l.action = 'loggedin' AND rf.staff = 1 THEN l.userid END) AS distinctstafflogins
  FROM {logstore_standard_log} l
  LEFT JOIN (` + roleFlagsSQL + `) rf ON rf.userid = l.userid
 WHERE l.timecreated >= ? AND l.timecreated < ?
   AND ` + OwnEventSQL("l"),
	Args: func(p measures.Params) []any { return append(roleArgs(p), p.From(), p.To()) },
	Cost: "One calendar month of log rows through the index on timecreated (the heaviest user query, run once a month), joined to role_assignments grouped by user (a month's users are most of a site's: reading only theirs was no cheaper).",
}

var usersAliveMonthly = &measures.Query{
	Name: "users.alive.monthly",
	SQL: `SELECT COUNT(*) AS alive
  FROM {user}
 WHERE deleted = 0 AND suspended = 0 AND mnethostid = ` + localHostSQL,
	Cost: "One pass over the user table, once a month.",
}

// roleNote explains how the role classes are chosen, for descriptions.
const roleNote = " Roles come from the site's role mapping (by default the archetypes student; editingteacher and teacher; manager)."

// loginNote explains what a login is, for descriptions.
const loginNote = " A login is a user_loggedin event of the standard log (action 'loggedin') done by the user themself (no realuserid); \"log in as\" sessions are logged as 'loggedinas' and never counted, nor is the guest account."

// onlineGraph is the graph of the minute-by-minute online user counts.
const onlineGraph = "Users online"

func init() {
	measures.MustRegister(
		// Hourly, legacy keys.
		measures.Measure{
			Key:         "moodle.users.connected",
			Name:        "Users connected (15 min, hourly sample)",
			Description: "Distinct non-deleted users whose last access (user.lastaccess) lies in the 15 minutes before the end of the hour; sampled once an hour, see moodle.users.connected.instant for the minute-by-minute value.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersOnlineHourly,
			Column:      "connected",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "The window now ends at the hour boundary instead of whenever the task happened to run, so samples are comparable.",
		},
		measures.Measure{
			Key:         "moodle.users.active",
			Name:        "Users active (60 min, hourly sample)",
			Description: "Distinct non-deleted users whose last access (user.lastaccess) lies in the hour before the end of the hour; sampled once an hour, see moodle.users.active.instant for the minute-by-minute value.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersOnlineHourly,
			Column:      "active",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "The lookback is one full hour ending at the hour boundary (report_zabbix 4.01 used 3 minutes, and windows drifted with the task's start time).",
			Triggers: []measures.Trigger{{
				Name:        "No Moodle user active during working hours on {HOST.NAME}",
				Expression:  "last({item})=0 and time()>=080000 and time()<=180000 and dayofweek()<=5",
				Severity:    measures.Warning,
				Description: "Nobody accessed the site in a whole working hour (Monday to Friday, 08:00 to 18:00 server time): the site may be unreachable for users even though the database answers.",
			}},
		},
		// Instant variants: the same counts every minute, for load curves and dashboards.
		measures.Measure{
			Key:         "moodle.users.connected.instant",
			Name:        "Users connected (15 min)",
			Description: "Distinct non-deleted users whose last access (user.lastaccess) lies in the 15 minutes before the end of the last minute; the minute-by-minute companion of the hourly moodle.users.connected, kept separate so that the legacy key's history stays comparable.",
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersOnlineInstant,
			Column:      "connected",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Graph:       onlineGraph,
			Dashboard:   true,
		},
		measures.Measure{
			Key:         "moodle.users.active.instant",
			Name:        "Users active (60 min)",
			Description: "Distinct non-deleted users whose last access (user.lastaccess) lies in the 60 minutes before the end of the last minute; the minute-by-minute companion of the hourly moodle.users.active.",
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersOnlineInstant,
			Column:      "active",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Graph:       onlineGraph,
			Dashboard:   true,
		},

		// Daily account counts (state at collection time).
		measures.Measure{
			Key:         "moodle.users.registered",
			Name:        "Registered users",
			Description: "Non-deleted users of the local MNet host at collection time, the guest account and administrators included.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "registered",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Graph:       "User accounts",
			Dashboard:   true,
		},
		measures.Measure{
			Key:         "moodle.users.deleted",
			Name:        "Deleted users",
			Description: "Deleted users (user.deleted = 1) of the local MNet host at collection time.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "deleted",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
		},
		measures.Measure{
			Key:         "moodle.users.suspended",
			Name:        "Suspended users",
			Description: "Non-deleted, suspended users of the local MNet host at collection time.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "suspended",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Graph:       "User accounts",
		},
		measures.Measure{
			Key:         "moodle.users.alive",
			Name:        "Alive users",
			Description: "Non-deleted, non-suspended users of the local MNet host at collection time, the guest account and administrators included.",
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "alive",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Graph:       "User accounts",
		},
		measures.Measure{
			Key:         "moodle.users.students",
			Name:        "Students",
			Description: "Distinct non-deleted, non-suspended local users holding a student role in at least one course context, at collection time." + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "students",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Counted in one SQL query with configurable roles instead of a role policy evaluated in PHP.",
			Graph:       "Users by role",
		},
		measures.Measure{
			Key:         "moodle.users.teachers",
			Name:        "Teachers",
			Description: "Distinct non-deleted, non-suspended local users holding a teacher role (editing or not) in at least one course context, at collection time." + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "teachers",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Editing teachers are counted; report_zabbix's standard role policy only counted the non-editing teacher archetype.",
			Graph:       "Users by role",
		},
		measures.Measure{
			Key:         "moodle.users.staff",
			Name:        "Staff",
			Description: "Distinct non-deleted, non-suspended local users holding a staff role in any context (system, category, course or below), at collection time." + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAccounts,
			Column:      "staff",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "The staff class is a configurable role set counted in SQL, so it no longer depends on a role policy whose naming could make it always 0.",
			Graph:       "Users by role",
		},

		// Daily logins.
		measures.Measure{
			Key:         "moodle.users.dailylogins",
			Name:        "Logins per day",
			Description: "Login events logged during the calendar day." + loginNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "logins",
			Query:       usersLoginsDaily,
			Column:      "logins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Counted over the calendar day in the site's time zone instead of the 24 hours before the task ran.",
			Graph:       "Logins per day",
			Dashboard:   true,
		},
		measures.Measure{
			Key:         "moodle.users.dailydistinctlogins",
			Name:        "Distinct users logged in per day",
			Description: "Distinct users with at least one login event during the calendar day." + loginNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersLoginsDaily,
			Column:      "distinctlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Counts users with a login event in the day; report_zabbix read user.lastlogin, which holds the previous login, not the latest.",
			Graph:       "Logins per day",
			Dashboard:   true,
		},
		measures.Measure{
			Key:         "moodle.users.dailydistinctstudentlogins",
			Name:        "Distinct students logged in per day",
			Description: "Distinct users with at least one login event during the calendar day who hold a student role in a course context at collection time." + loginNote + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersLoginsDaily,
			Column:      "distinctstudentlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in one SQL query, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
			Graph:       "Daily logins by role",
		},
		measures.Measure{
			Key:         "moodle.users.dailydistinctteacherlogins",
			Name:        "Distinct teachers logged in per day",
			Description: "Distinct users with at least one login event during the calendar day who hold a teacher role (editing or not) in a course context at collection time." + loginNote + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersLoginsDaily,
			Column:      "distinctteacherlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in one SQL query, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
			Graph:       "Daily logins by role",
		},
		measures.Measure{
			Key:         "moodle.users.dailydistinctstafflogins",
			Name:        "Distinct staff logged in per day",
			Description: "Distinct users with at least one login event during the calendar day who hold a staff role in any context at collection time." + loginNote + roleNote,
			Family:      measures.Daily,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersLoginsDaily,
			Column:      "distinctstafflogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in one SQL query, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
			Graph:       "Daily logins by role",
		},

		// Monthly.
		measures.Measure{
			Key:         "moodle.users.monthlyalive",
			Name:        "Alive users (monthly)",
			Description: "Non-deleted, non-suspended users of the local MNet host at collection time, as moodle.users.alive.",
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersAliveMonthly,
			Column:      "alive",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Restricted to the local MNet host like the daily moodle.users.alive; report_zabbix also counted remote MNet users here.",
		},
		measures.Measure{
			Key:         "moodle.users.monthlyactive",
			Name:        "Active users per month",
			Description: "Distinct users (guest account excluded) with at least one event in the standard log during the calendar month, not counting events done by someone logged in as them or by a command-line script.",
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "active",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Counts log activity over the calendar month; report_zabbix read user.lastaccess over a rolling 30 days, which loses every user who came back after the month ended.",
			Graph:       "Monthly activity",
		},
		measures.Measure{
			Key:         "moodle.users.monthlyactivestudents",
			Name:        "Active students per month",
			Description: "Distinct users with at least one standard log event of their own during the calendar month who hold a student role in a course context at collection time." + roleNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "activestudents",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Log activity over the calendar month, counted in SQL, instead of user.lastaccess over 30 days filtered user by user through a role policy.",
			Graph:       "Monthly activity",
		},
		measures.Measure{
			Key:         "moodle.users.monthlyactiveteachers",
			Name:        "Active teachers per month",
			Description: "Distinct users with at least one standard log event of their own during the calendar month who hold a teacher role (editing or not) in a course context at collection time." + roleNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "activeteachers",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Log activity over the calendar month, counted in SQL, instead of user.lastaccess over 30 days filtered user by user through a role policy.",
			Graph:       "Monthly activity",
		},
		measures.Measure{
			Key:         "moodle.users.monthlylogins",
			Name:        "Logins per month",
			Description: "Login events logged during the calendar month." + loginNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "logins",
			Query:       usersActivityMonthly,
			Column:      "logins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
		},
		measures.Measure{
			Key:         "moodle.users.monthlydistinctlogins",
			Name:        "Distinct users logged in per month",
			Description: "Distinct users with at least one login event during the calendar month." + loginNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "distinctlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Counts users with a login event in the month; report_zabbix read user.lastlogin, which holds the previous login.",
			Graph:       "Monthly activity",
		},
		measures.Measure{
			Key:         "moodle.users.monthlydistinctstudentlogins",
			Name:        "Distinct students logged in per month",
			Description: "Distinct users with at least one login event during the calendar month who hold a student role in a course context at collection time." + loginNote + roleNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "distinctstudentlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in SQL, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
		},
		measures.Measure{
			Key:         "moodle.users.monthlydistinctteacherlogins",
			Name:        "Distinct teachers logged in per month",
			Description: "Distinct users with at least one login event during the calendar month who hold a teacher role (editing or not) in a course context at collection time." + loginNote + roleNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "distinctteacherlogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in SQL, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
		},
		measures.Measure{
			Key:         "moodle.users.monthlydistinctstafflogins",
			Name:        "Distinct staff logged in per month",
			Description: "Distinct users with at least one login event during the calendar month who hold a staff role in any context at collection time." + loginNote + roleNote,
			Family:      measures.Monthly,
			Type:        measures.Unsigned,
			Units:       "users",
			Query:       usersActivityMonthly,
			Column:      "distinctstafflogins",
			Aggregate:   measures.Sum,
			Domain:      "users",
			Legacy:      true,
			Fixes:       "Based on login events and counted in SQL, instead of user.lastlogin (the previous login) filtered user by user through a role policy.",
		},
	)
}
