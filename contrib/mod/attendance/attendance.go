// Package attendance holds the measures of mod_attendance: the sessions held each day, those
// whose attendance was taken or not, the marks recorded for them, the students marked, and
// the share of marks that say present. The measures go to the "Moodle attendance" template
// and are skipped on sites where the plugin is not installed.
package attendance

import (
	"context"
	"fmt"
	"strconv"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "mod_attendance"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle attendance"

// dailySQL reads the sessions dated in the day with their marks. A mark is present when its
// status carries the highest grade of the statuses (not deleted) of its activity and status
// set: Present in the default set Present, Late, Excused, Absent.
const dailySQL = `SELECT COUNT(DISTINCT s.id) AS sessions,
       COUNT(DISTINCT CASE WHEN s.lasttaken > 0 THEN s.id END) AS taken,
       COUNT(l.id) AS marks,
       COUNT(DISTINCT l.studentid) AS students,
       SUM(CASE WHEN st.grade = (SELECT MAX(s2.grade)
                                   FROM {attendance_statuses} s2
                                  WHERE s2.attendanceid = st.attendanceid AND s2.setnumber = st.setnumber
                                    AND s2.deleted = 0)
                THEN 1 ELSE 0 END) AS present
  FROM {attendance_sessions} s
  LEFT JOIN {attendance_log} l ON l.sessionid = s.id
  LEFT JOIN {attendance_statuses} st ON st.id = l.statusid
 WHERE s.sessdate >= ? AND s.sessdate < ?`

// daily runs dailySQL and derives the sessions not taken and the present ratio in Go, so that
// the ratio has the same precision on every engine (MySQL's decimal division keeps 4 digits).
var daily = &measures.Query{
	Name:      "attendance.daily",
	SQL:       dailySQL,
	Args:      func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Compute:   computeDaily,
	Component: Component,
	Cost: "The sessions of one day through the index on sessdate, their marks through the log's session index and " +
		"the statuses by primary key; the highest grade of a status set is read through the statuses' activity index.",
}

func computeDaily(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
	rows, err := q.Query(ctx, dailySQL, p.From(), p.To())
	if err != nil || len(rows) != 1 {
		return rows, err
	}
	r := rows[0]
	var n [4]int64
	for i, col := range []string{"sessions", "taken", "marks", "present"} {
		if n[i], err = count(r[col]); err != nil {
			return nil, fmt.Errorf("column %s: %w", col, err)
		}
	}
	sessions, taken, marks, present := n[0], n[1], n[2], n[3]
	r["untaken"] = strconv.FormatInt(sessions-taken, 10)
	ratio := 0.0
	if marks > 0 {
		ratio = 100 * float64(present) / float64(marks)
	}
	r["presentratio"] = ratio
	return rows, nil
}

// count reads a COUNT or SUM column (NULL is 0).
func count(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return int64(f), err
	case int64:
		return x, nil
	}
	return 0, fmt.Errorf("unexpected value %v (%T)", v, v)
}

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.attendance.sessions",
			Name:        "Attendance sessions held",
			Description: "Attendance sessions dated in the day (their start time, sessdate, falls in the day).",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "sessions",
			Query: daily, Column: "sessions",
			Aggregate: measures.Sum, Template: Template, Domain: "attendance",
			Graph: "Attendance sessions", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.attendance.taken",
			Name:        "Attendance sessions taken",
			Description: "Attendance sessions dated in the day whose attendance had been taken at collection time.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "sessions",
			Query: daily, Column: "taken",
			Aggregate: measures.Sum, Template: Template, Domain: "attendance",
			Graph: "Attendance sessions",
		},
		measures.Measure{
			Key:         "moodle.attendance.untaken",
			Name:        "Attendance sessions not taken",
			Description: "Attendance sessions dated in the day whose attendance had not been taken at collection time.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "sessions",
			Query: daily, Column: "untaken",
			Aggregate: measures.Sum, Template: Template, Domain: "attendance",
			Graph: "Attendance sessions",
			Triggers: []measures.Trigger{{
				Name:        "Sessions left without attendance taken on {HOST.NAME}",
				Expression:  "last({item})>{$MOODLE.ATTENDANCE.UNTAKEN.MAX}",
				Severity:    measures.Information,
				Description: "Sessions of the day ended without attendance being taken; where attendance is a legal record, teachers should take it now.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.ATTENDANCE.UNTAKEN.MAX}",
					Value:       "10",
					Description: "How many sessions of a day may end without attendance taken before a problem is raised.",
				}},
			}},
		},
		measures.Measure{
			Key:         "moodle.attendance.marks",
			Name:        "Attendance marks",
			Description: "Attendance marks (one per student and session) recorded for the sessions dated in the day, at collection time.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "marks",
			Query: daily, Column: "marks",
			Aggregate: measures.Sum, Template: Template, Domain: "attendance",
		},
		measures.Measure{
			Key:         "moodle.attendance.students",
			Name:        "Students marked",
			Description: "Distinct students with an attendance mark for a session dated in the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "students",
			Query: daily, Column: "students",
			Aggregate: measures.Sum, Template: Template, Domain: "attendance",
		},
		measures.Measure{
			Key:         "moodle.attendance.presentratio",
			Name:        "Attendance present ratio",
			Description: "Percentage of the marks of the sessions dated in the day whose status carries the highest grade of its status set (Present in the default set), 0 when no mark was recorded.",
			Family:      measures.Daily, Type: measures.Float, Units: "%",
			Query: daily, Column: "presentratio",
			Aggregate: measures.Avg, Template: Template, Domain: "attendance",
			Graph: "Attendance present ratio", Dashboard: true,
		},
	)
}

func init() { Register(measures.Default) }
