package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// CronLateAfter is how old the newest cron activity may be, at the end of the instant window,
// before moodle.general.cronstate reports cron as late. Moodle's cron normally starts every
// minute and its own health check expects a run every few minutes; ten minutes leaves room for
// a busy run without hiding a stopped cron for long.
const CronLateAfter = 10 * time.Minute

// BackupStaleAfter is how recently a backup working directory under <dataroot>/temp/backup, or
// one of its direct entries, must have been modified to count as a backup in progress. Older
// directories are leftovers of failed backups, which Moodle only purges after about a week.
const BackupStaleAfter = 24 * time.Hour

// cronStartsSQL lists the start times of cron activity known to the database: every scheduled
// task's last start, the newest task_log start before the window end, and tool_task's
// lastcronstart (written by Moodle each time cron starts). The CASE keeps PostgreSQL from
// casting any other config_plugins value. The caller filters the union on c.t < window end, so
// a cron that started after the window ended does not hide how late it was at the window end.
const cronStartsSQL = `SELECT lastruntime AS t FROM {task_scheduled}
 UNION ALL
SELECT MAX(timestart) AS t FROM {task_log} WHERE timestart < ?
 UNION ALL
SELECT CASE WHEN plugin = 'tool_task' AND name = 'lastcronstart' THEN CAST(value AS DECIMAL(20,0)) END AS t
  FROM {config_plugins}
 WHERE plugin = 'tool_task' AND name = 'lastcronstart'`

const cronCost = "task_scheduled holds one row per task, task_log is read through its timestart index (MAX only), config_plugins through its unique (plugin, name) index."

var generalWeb = &measures.Query{
	Name: "general.web",
	SQL: `SELECT COUNT(*) / 60.0 AS webrequestrate,
       SUM(CASE WHEN timecreated >= ? THEN 1 ELSE 0 END) AS webrequests
  FROM {logstore_standard_log}
 WHERE timecreated >= ? AND timecreated < ? AND origin = 'web'`,
	Args:        func(p measures.Params) []any { return []any{p.From(), p.Before(time.Hour), p.To()} },
	Incremental: webEventsByMinute,
	Cost:        "Counted per minute: each run reads, through the index on timecreated, only the minutes that earlier runs have not counted at least five minutes after they ended (normally the last five) and adds the hour's other minutes from the program's state; a backfill, or a run with no state yet, reads the whole hour. Origin is filtered on those rows only.",
}

// generalInstance is the heartbeat: 1 only when the database was reached and recognised as a
// Moodle, by reading its version from the config table. A wrong table prefix or a database
// that is not Moodle's fails the measure, so no heartbeat leaves and the nodata trigger fires.
var generalInstance = &measures.Query{
	Name: "general.instance",
	Compute: func(ctx context.Context, q measures.Querier, _ measures.Params) ([]measures.Row, error) {
		rows, err := q.Query(ctx, "SELECT 1 AS instance FROM {config} WHERE name = ?", "version")
		if err != nil {
			return nil, fmt.Errorf("read Moodle's version from the config table: %w", err)
		}
		if len(rows) == 0 {
			return nil, errors.New("the config table has no version row: this database is not a Moodle site (check driver, dsn and prefix)")
		}
		return rows[:1], nil
	},
	Cost: "One row of config through its unique index on name.",
}

var generalCronState = &measures.Query{
	Name: "general.cronstate",
	SQL: `SELECT CASE WHEN MAX(c.t) IS NULL OR MAX(c.t) < ? THEN 1 ELSE 0 END AS cronstate
  FROM (` + cronStartsSQL + `) c
 WHERE c.t < ?`,
	Args: func(p measures.Params) []any { return []any{p.Before(CronLateAfter), p.To(), p.To()} },
	Cost: cronCost,
}

var generalCronFailed = &measures.Query{
	Name: "general.cronfailed",
	SQL:  `SELECT COUNT(*) AS cronfailed FROM {task_scheduled} WHERE faildelay > 0 AND disabled = 0`,
	Cost: "task_scheduled holds one row per scheduled task (a few hundred).",
}

// skipWithout returns a Skip hook that leaves a query out when the site configures no such
// Moodle directory.
func skipWithout(what string, dir func(measures.Params) string) func(measures.Params) string {
	return func(p measures.Params) string {
		if dir(p) == "" {
			return "no Moodle " + what + " is configured for the site"
		}
		return ""
	}
}

var generalBackups = &measures.Query{
	Name:    "general.backupsinprogress",
	Skip:    skipWithout("data directory (dataroot)", func(p measures.Params) string { return p.Dataroot }),
	Compute: countBackupsInProgress,
	Cost:    "Lists <dataroot>/temp/backup and the direct entries of each of its subdirectories; the database is not read.",
}

var generalCronLateness = &measures.Query{
	Name: "general.cronlateness",
	SQL: `SELECT CAST(? AS DECIMAL(20,0)) - COALESCE(MAX(c.t), 0) AS cronlateness
  FROM (` + cronStartsSQL + `) c
 WHERE c.t < ?`,
	Args: func(p measures.Params) []any { return []any{p.To(), p.To(), p.To()} },
	Cost: cronCost,
}

var generalSlowPages = &measures.Query{
	Name:      "general.slowpages",
	SQL:       `SELECT COUNT(*) AS slowpages FROM {local_advancedperfs_slowp} WHERE timecreated >= ? AND timecreated < ?`,
	Args:      func(p measures.Params) []any { return []any{p.From(), p.To()} },
	Component: "local_advancedperfs",
	Cost:      "One hour of the slow page table through its timecreated index.",
}

var generalUpgrade = &measures.Query{
	Name:    "general.upgrade",
	Skip:    skipWithout("code directory (dirroot)", func(p measures.Params) string { return p.Dirroot }),
	Compute: upgradePending,
	Cost:    "Reads <dirroot>/version.php and one {config} row by its unique name index.",
}

var generalAdhocQueue = &measures.Query{
	Name: "general.adhocqueue",
	SQL:  `SELECT COUNT(*) AS adhocqueuesize FROM {task_adhoc} WHERE nextruntime < ?`,
	Args: func(p measures.Params) []any { return []any{p.To()} },
	Cost: "A range of the index on task_adhoc.nextruntime.",
}

var generalVersion = &measures.Query{
	Name: "general.version",
	SQL: `SELECT MAX(CASE WHEN name = 'version' THEN value END) AS version,
       MAX(CASE WHEN name = 'release' THEN value END) AS moodlerelease
  FROM {config}
 WHERE name IN ('version', 'release')`,
	Cost: "Two {config} rows by their unique name index.",
}

// cronStateMap names the values of moodle.general.cronstate.
var cronStateMap = &measures.ValueMap{
	Name: "Moodle cron state",
	Mappings: []measures.Mapping{
		{Value: "0", NewValue: "OK"},
		{Value: "1", NewValue: "Late"},
	},
}

// upgradeStateMap names the values of the upgrade-pending measures.
var upgradeStateMap = &measures.ValueMap{
	Name: "Moodle upgrade state",
	Mappings: []measures.Mapping{
		{Value: "0", NewValue: "Up to date"},
		{Value: "1", NewValue: "Upgrade pending"},
	},
}

const performanceTemplate = measures.PerformanceTemplate

func init() {
	lateMinutes := int(CronLateAfter / time.Minute)
	measures.MustRegister(
		// Instant.
		measures.Measure{
			Key:         "moodle.general.webrequestrate",
			Name:        "Web log events per minute (1 h average)",
			Description: "Standard log events of web origin (origin = 'web') in the hour before the end of the last minute, divided by 60; these are logged events, not HTTP requests (page views that log nothing are not counted). Each minute of the hour is counted once it is five minutes old, so rows written more than five minutes after their event (at the end of a request that long) are left out.",
			Family:      measures.Instant,
			Type:        measures.Float,
			Units:       "events/min",
			Query:       generalWeb,
			Column:      "webrequestrate",
			Aggregate:   measures.Sum,
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Zeros are sent, the units say per minute (the old template said q/h), and the description says it counts log events rather than requests.",
			Graph:       "Web log events per minute",
			Dashboard:   true,
		},
		measures.Measure{
			Key:         "moodle.general.webrequests",
			Name:        "Web log events (last minute)",
			Description: "Standard log events of web origin (origin = 'web') logged during the last full minute; logged events, not HTTP requests.",
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Units:       "events",
			Query:       generalWeb,
			Column:      "webrequests",
			Aggregate:   measures.Sum,
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Zeros are sent, and the minute is a fixed calendar minute, so consecutive samples neither overlap nor leave gaps.",
			Graph:       "Web log events per minute",
		},
		measures.Measure{
			Key:         "moodle.general.instance",
			Name:        "Collector heartbeat",
			Description: "1, sent every minute as long as the collector runs and reads the site's Moodle version from its config table (a wrong table prefix or a database that is not Moodle's sends nothing); its absence (nodata) is the alert.",
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Query:       generalInstance,
			Column:      "instance",
			Aggregate:   measures.Sum,
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Paired with a nodata trigger, which report_zabbix never shipped, so a stopped collector or unreachable database raises a problem.",
			Triggers: []measures.Trigger{{
				Name:        "No data from the Moodle collector on {HOST.NAME} for {$MOODLE.NODATA.INSTANT}",
				Expression:  "nodata({item},{$MOODLE.NODATA.INSTANT})=1",
				Severity:    measures.High,
				Description: "The minute-by-minute heartbeat stopped: the collector is down, cannot reach the Moodle database, or cannot reach Zabbix.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.NODATA.INSTANT}",
					Value:       "5m",
					Description: "How long the instant heartbeat may be missing before a problem is raised.",
				}},
			}},
		},
		measures.Measure{
			Key:  "moodle.general.cronstate",
			Name: "Cron state",
			Description: fmt.Sprintf("1 when the newest cron activity known to the database before the end of the last minute "+
				"(tool_task lastcronstart, the newest task_scheduled.lastruntime or task_log.timestart) is more than %d minutes old or absent, otherwise 0.", lateMinutes),
			Family:    measures.Instant,
			Type:      measures.Unsigned,
			Query:     generalCronState,
			Column:    "cronstate",
			Aggregate: measures.Max,
			Template:  performanceTemplate,
			Domain:    "tasks",
			ValueMap:  cronStateMap,
			Legacy:    true,
			Fixes:     "Read from what cron itself writes, measured by the external collector; report_zabbix compared a timestamp its own task had just written, so it was always 0, and its threshold setting was misnamed.",
			Triggers: []measures.Trigger{{
				Name:        "Moodle cron is late on {HOST.NAME}",
				Expression:  "last({item})=1",
				Severity:    measures.Average,
				Description: fmt.Sprintf("No cron activity has been recorded for more than %d minutes: scheduled and ad hoc tasks (mail, backups, cleanup) are not running.", lateMinutes),
			}},
		},
		measures.Measure{
			Key:         "moodle.general.backupsinprogress",
			Name:        "Backups in progress",
			Description: fmt.Sprintf("Subdirectories of <dataroot>/temp/backup modified (themselves or one of their direct entries) in the last %d hours, i.e. backup or restore working directories in use; older leftovers of failed backups are not counted, and a site that moved its temporary directory elsewhere reports 0.", int(BackupStaleAfter/time.Hour)),
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Units:       "backups",
			Query:       generalBackups,
			Column:      "backupsinprogress",
			Aggregate:   measures.Sum,
			Template:    performanceTemplate,
			Domain:      "storage",
			Legacy:      true,
			Fixes:       "Stale working directories left by failed backups no longer inflate the count.",
		},
		measures.Measure{
			Key:         "moodle.general.cronfailed",
			Name:        "Scheduled tasks failing",
			Description: "Enabled scheduled tasks currently in failure back-off (task_scheduled.faildelay > 0).",
			Family:      measures.Instant,
			Type:        measures.Unsigned,
			Units:       "tasks",
			Query:       generalCronFailed,
			Column:      "cronfailed",
			Aggregate:   measures.Sum,
			Template:    performanceTemplate,
			Domain:      "tasks",
			Legacy:      true,
			Fixes:       "Disabled tasks, which cannot recover by themselves, are no longer counted.",
			Graph:       "Cron health",
			Dashboard:   true,
			Triggers: []measures.Trigger{{
				Name:        "Moodle scheduled tasks are failing on {HOST.NAME}",
				Expression:  "last({item})>{$MOODLE.CRON.FAILED.MAX}",
				Severity:    measures.Average,
				Description: "Some scheduled tasks failed on their last run and are retried with a growing delay; see Site administration > Server > Tasks > Scheduled tasks.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.CRON.FAILED.MAX}",
					Value:       "0",
					Description: "How many scheduled tasks may be in failure back-off without raising a problem.",
				}},
			}},
		},

		// Hourly.
		measures.Measure{
			Key:         "moodle.general.cronlateness",
			Name:        "Cron lateness (from cron starts)",
			Description: "Seconds between the end of the hour and the newest cron start recorded before it (tool_task lastcronstart, or the newest task_scheduled.lastruntime or task_log.timestart when newer); when the database records no cron start at all the value is the window end's Unix time, far above any threshold.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Units:       "s",
			Query:       generalCronLateness,
			Column:      "cronlateness",
			Aggregate:   measures.Max,
			Template:    performanceTemplate,
			Domain:      "tasks",
			Legacy:      true,
			Fixes:       "Measured by the external collector against the hour boundary instead of from inside the cron run it is supposed to watch, and zeros are sent.",
			Graph:       "Cron lateness",
		},
		measures.Measure{
			Key:         "moodle.general.hourlyslowpages",
			Name:        "Slow pages per hour",
			Description: "Slow pages recorded by the local_advancedperfs plugin (local_advancedperfs_slowp.timecreated) during the hour; skipped when the plugin is not installed.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Units:       "pages",
			Query:       generalSlowPages,
			Column:      "slowpages",
			Aggregate:   measures.Sum,
			Template:    performanceTemplate,
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Zeros are sent, and the hour is the calendar hour rather than the hour before the task ran.",
		},
		measures.Measure{
			Key:         "moodle.general.hourlyneedsupgrading",
			Name:        "Upgrade pending (hourly, legacy key)",
			Description: "Same value as moodle.general.upgradespending, kept under report_zabbix's second key: 1 when the core $version in <dirroot>/version.php is newer than config.version, otherwise 0.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Query:       generalUpgrade,
			Column:      "needsupgrading",
			Aggregate:   measures.Max,
			Domain:      "general",
			ValueMap:    upgradeStateMap,
			Legacy:      true,
			Fixes:       "0 is sent when no upgrade is pending; report_zabbix suppressed zeros, so the item only ever received 1.",
		},
		measures.Measure{
			Key:         "moodle.general.upgradespending",
			Name:        "Upgrade pending",
			Description: "1 when the core $version in <dirroot>/version.php is newer than the version recorded in the database (config.version), i.e. new code is deployed but the upgrade has not run, otherwise 0; plugin versions are not compared, and the measure is skipped when no dirroot is configured.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Query:       generalUpgrade,
			Column:      "needsupgrading",
			Aggregate:   measures.Max,
			Domain:      "general",
			ValueMap:    upgradeStateMap,
			Legacy:      true,
			Fixes:       "Sent as a number with a numeric item instead of a quoted string.",
			Triggers: []measures.Trigger{{
				Name:        "Moodle upgrade pending on {HOST.NAME}",
				Expression:  "last({item})=1",
				Severity:    measures.Warning,
				Description: "The deployed Moodle code is newer than the database: the site stays in maintenance until the upgrade is run (admin/cli/upgrade.php).",
			}},
		},
		measures.Measure{
			Key:         "moodle.general.adhocqueuesize",
			Name:        "Ad hoc tasks due",
			Description: "Ad hoc tasks due to run at the end of the hour (task_adhoc.nextruntime before it, as Moodle's own queue selects them), running ones included; tasks scheduled for later, such as failed tasks waiting for their retry, are not counted.",
			Family:      measures.Hourly,
			Type:        measures.Unsigned,
			Units:       "tasks",
			Query:       generalAdhocQueue,
			Column:      "adhocqueuesize",
			Aggregate:   measures.Sum,
			Template:    performanceTemplate,
			Domain:      "tasks",
			Legacy:      true,
			Fixes:       "Counts only tasks that are due, not future or back-off ones, and zeros are sent.",
			Graph:       "Ad hoc task queue",
			Dashboard:   true,
			Triggers: []measures.Trigger{{
				Name:        "Moodle ad hoc task queue is long on {HOST.NAME}",
				Expression:  "last({item})>{$MOODLE.ADHOC.QUEUE.MAX}",
				Severity:    measures.Warning,
				Description: "More ad hoc tasks are due than cron can run: notifications, course copies and asynchronous jobs are delayed.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.ADHOC.QUEUE.MAX}",
					Value:       "1000",
					Description: "How many due ad hoc tasks may wait before a problem is raised.",
				}},
			}},
		},
		measures.Measure{
			Key:         "moodle.general.version",
			Name:        "Moodle version",
			Description: "The site's version number as recorded in the database (config.version), for example 2024100700.02.",
			Family:      measures.Hourly,
			Type:        measures.Char,
			Query:       generalVersion,
			Column:      "version",
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Declared as a character item; the old template declared it unsigned, so Zabbix refused every value.",
		},
		measures.Measure{
			Key:         "moodle.general.release",
			Name:        "Moodle release",
			Description: "The site's release string as recorded in the database (config.release), for example 4.5 (Build: 20241007).",
			Family:      measures.Hourly,
			Type:        measures.Char,
			Query:       generalVersion,
			Column:      "moodlerelease",
			Domain:      "general",
			Legacy:      true,
			Fixes:       "Declared as a character item; the old template declared it unsigned, so Zabbix refused every value.",
		},
	)
}

// countBackupsInProgress counts the backup working directories in use under the dataroot.
func countBackupsInProgress(_ context.Context, _ measures.Querier, p measures.Params) ([]measures.Row, error) {
	if _, err := os.Stat(p.Dataroot); err != nil {
		return nil, fmt.Errorf("dataroot: %w", err)
	}
	dir := filepath.Join(p.Dataroot, "temp", "backup")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []measures.Row{{"backupsinprogress": int64(0)}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	cutoff := p.Now.Add(-BackupStaleAfter)
	var n int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		recent, err := recentlyModified(filepath.Join(dir, e.Name()), cutoff)
		if err != nil {
			return nil, fmt.Errorf("backup directory: %w", err)
		}
		if recent {
			n++
		}
	}
	return []measures.Row{{"backupsinprogress": n}}, nil
}

// recentlyModified reports whether dir or one of its direct entries was modified after cutoff.
// A directory that vanished meanwhile (the backup just finished) is not recent.
func recentlyModified(dir string, cutoff time.Time) (bool, error) {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info.ModTime().After(cutoff) {
		return true, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		ei, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		if ei.ModTime().After(cutoff) {
			return true, nil
		}
	}
	return false, nil
}

// codeVersionRE finds the core version assignment in Moodle's version.php, for example
// "$version  = 2024100700.02;".
var codeVersionRE = regexp.MustCompile(`(?m)^\s*\$version\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*;`)

// upgradePending compares the code's version with the database's: 1 when the code is newer
// (or the database records no version), 0 otherwise.
func upgradePending(ctx context.Context, q measures.Querier, p measures.Params) ([]measures.Row, error) {
	path := filepath.Join(p.Dirroot, "version.php")
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("code version: %w", err)
	}
	m := codeVersionRE.FindSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("code version: no $version assignment in %s", path)
	}
	code, ok := new(big.Rat).SetString(string(m[1]))
	if !ok {
		return nil, fmt.Errorf("code version: bad number %q in %s", m[1], path)
	}
	rows, err := q.Query(ctx, "SELECT value FROM {config} WHERE name = ?", "version")
	if err != nil {
		return nil, fmt.Errorf("database version: %w", err)
	}
	pending := int64(1)
	if len(rows) > 0 {
		s := fmt.Sprint(rows[0]["value"])
		if b, isBytes := rows[0]["value"].([]byte); isBytes {
			s = string(b)
		}
		db, ok := new(big.Rat).SetString(s)
		if !ok {
			return nil, fmt.Errorf("database version: config.version %q is not a number", s)
		}
		if code.Cmp(db) <= 0 {
			pending = 0
		}
	}
	return []measures.Row{{"needsupgrading": pending}}, nil
}
