package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Task and cron health, read from {task_scheduled}, {task_adhoc} and {task_log} by the
// collector, outside cron: unlike the plugin's cron state and lateness, these values do not
// come from the cron run they judge.
//
// Every time is relative to the window's end (the instant window ends at the minute the family
// fired; the hourly window is the last full hour), never to the database clock.
//
// Two keys one might expect here are deliberately absent, because the general domain already
// sends exactly them: enabled scheduled tasks in failure back-off (moodle.general.cronfailed
// counts faildelay > 0 AND disabled = 0) and the collector heartbeat with its
// nodata({$MOODLE.NODATA.INSTANT}) trigger (moodle.general.instance, constant 1). A second
// copy would raise every such problem twice. A nodata trigger cannot watch cron itself, since
// the collector sends values whether cron runs or not: cron liveness is
// moodle.tasks.cronlateness, checked every minute.

// tasksCronLookback is how far back, in seconds, the cron lateness looks for finished task
// runs (bounded by the index on task_log.timestart). When no run ended in that hour the
// newest run start before the window's end stands in: cron has then been silent for at least
// that long anyway.
const tasksCronLookback = 3600

// tasksRunLookback is how long before the hour a run that ended in the hour may have started:
// task_log has an index on timestart only, so the hourly scan is bounded by it. A run longer
// than a day is not seen.
const tasksRunLookback = 86400

// tasksInstant fills the instant task health keys in one round trip of scalar subqueries,
// each bounded by an index (nextruntime, timestart).
var tasksInstant = &measures.Query{
	Name: "tasks.instant",
	SQL: `SELECT (SELECT COALESCE(CAST(? AS DECIMAL(20,0)) - MIN(nextruntime), 0) FROM {task_adhoc}
                WHERE nextruntime <= ? AND (timestarted IS NULL OR timestarted = 0)) AS adhocage,
       CAST(? AS DECIMAL(20,0)) - COALESCE(
           (SELECT MAX(timeend) FROM {task_log}
             WHERE timestart >= ? AND timestart < ? AND timeend < ?),
           (SELECT MAX(timestart) FROM {task_log} WHERE timestart < ?),
           CAST(? AS DECIMAL(20,0))) AS cronlateness`,
	Args: func(p measures.Params) []any {
		to := p.To()
		return []any{to, to, to, to - tasksCronLookback, to, to, to, to}
	},
	Cost: "MIN over the index on task_adhoc.nextruntime, and task_log runs of the last hour (index on timestart) with an index-only MAX(timestart) fallback.",
}

// tasksHourly reads the task runs that ended during the hour.
var tasksHourly = &measures.Query{
	Name: "tasks.hourly",
	SQL: `SELECT COUNT(*) AS runs,
       SUM(CASE WHEN result = 1 THEN 1 ELSE 0 END) AS failed,
       MAX(timeend - timestart) AS slowest
  FROM {task_log}
 WHERE timestart >= ? AND timestart < ? AND timeend >= ? AND timeend < ?`,
	Args: func(p measures.Params) []any {
		return []any{p.From() - tasksRunLookback, p.To(), p.From(), p.To()}
	},
	Cost: "Task runs started in the 25 hours before the hour's end (index on task_log.timestart), filtered to those that ended in the hour.",
}

func init() {
	const perf = performanceTemplate
	measures.MustRegister(
		measures.Measure{
			Key:  "moodle.tasks.adhocoldestage",
			Name: "Oldest waiting ad hoc task age",
			Description: "Seconds between the end of the instant window and the next run time of the oldest ad hoc task that is due " +
				"(next run time at or before the window's end) and not running; 0 when none is waiting.",
			Family: measures.Instant, Type: measures.Unsigned, Units: "s",
			Query: tasksInstant, Column: "adhocage", Template: perf,
			Aggregate: measures.Max, Domain: "tasks", Graph: "Cron and task queue delays", Dashboard: true,
			Triggers: []measures.Trigger{{
				Name:        "{HOST.NAME}: an ad hoc task has been waiting for {ITEM.LASTVALUE}",
				Expression:  "last({item})>{$MOODLE.ADHOC.AGE.MAX}",
				Severity:    measures.High,
				Description: "A due ad hoc task has not been picked up: cron is stopped, too slow for the queue, or the task keeps being skipped.",
				Macros: []measures.Macro{{Name: "{$MOODLE.ADHOC.AGE.MAX}", Value: "3600",
					Description: "Longest wait, in seconds, of a due ad hoc task before a problem is raised."}},
			}},
		},
		measures.Measure{
			Key:  "moodle.tasks.cronlateness",
			Name: "Cron lateness (from finished tasks)",
			Description: "Seconds between the end of the instant window and the end of the newest task run logged in task_log that finished before it " +
				"(runs started in the last hour; when there is none, the newest run start stands in); 0 when the task log is empty. " +
				"Cron runs every minute on a healthy site, so this stays under a few minutes. " +
				"Unlike the hourly moodle.general.cronlateness (from cron start times), it is checked every minute against finished runs.",
			Family: measures.Instant, Type: measures.Float, Units: "s",
			Query: tasksInstant, Column: "cronlateness", Template: perf,
			Aggregate: measures.Max, Domain: "tasks", Graph: "Cron and task queue delays", Dashboard: true,
			// No trigger here: moodle.general.cronstate raises "cron is late" from every trace cron
			// leaves (also when task logging is off), so one stopped cron is one problem, not two.
		},
		measures.Measure{
			Key:         "moodle.tasks.hourlyruns",
			Name:        "Task runs (hour)",
			Description: "Scheduled and ad hoc task runs logged in task_log that ended during the previous full hour.",
			Family:      measures.Hourly, Type: measures.Unsigned, Units: "runs",
			Query: tasksHourly, Column: "runs", Template: perf,
			Aggregate: measures.Sum, Domain: "tasks", Graph: "Task runs (per hour)",
		},
		measures.Measure{
			Key:         "moodle.tasks.hourlyfailedruns",
			Name:        "Failed task runs (hour)",
			Description: "Scheduled and ad hoc task runs logged as failed (result 1) in task_log that ended during the previous full hour.",
			Family:      measures.Hourly, Type: measures.Unsigned, Units: "runs",
			Query: tasksHourly, Column: "failed", Template: perf,
			Aggregate: measures.Sum, Domain: "tasks", Graph: "Task runs (per hour)", Dashboard: true,
			Triggers: []measures.Trigger{{
				Name:        "{HOST.NAME}: Moodle task runs failed in the last hour",
				Expression:  "last({item})>{$MOODLE.TASKS.FAILEDRUNS.MAX}",
				Severity:    measures.Warning,
				Description: "Task runs failed during the last full hour; their output is in the task logs (Site administration > Server > Tasks > Task logs).",
				Macros: []measures.Macro{{Name: "{$MOODLE.TASKS.FAILEDRUNS.MAX}", Value: "0",
					Description: "Failed task runs per hour tolerated before a problem is raised."}},
			}},
		},
		measures.Measure{
			Key:  "moodle.tasks.hourlyslowestrun",
			Name: "Slowest task run (hour)",
			Description: "Longest duration in seconds (end minus start) of the task runs logged in task_log that ended during the previous full hour; " +
				"runs that started more than a day before the hour are not seen; 0 when there is none.",
			Family: measures.Hourly, Type: measures.Float, Units: "s",
			Query: tasksHourly, Column: "slowest", Template: perf,
			Aggregate: measures.Max, Domain: "tasks", Graph: "Slowest task run (per hour)",
			Triggers: []measures.Trigger{{
				Name:        "{HOST.NAME}: a task run took {ITEM.LASTVALUE}",
				Expression:  "last({item})>{$MOODLE.TASKS.SLOWRUN.MAX}",
				Severity:    measures.Warning,
				Description: "A task ran longer than expected during the last full hour; long runs hold cron locks and delay other tasks.",
				Macros: []measures.Macro{{Name: "{$MOODLE.TASKS.SLOWRUN.MAX}", Value: "1800",
					Description: "Longest acceptable task run, in seconds."}},
			}},
		},
	)
}
