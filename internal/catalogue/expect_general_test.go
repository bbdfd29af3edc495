package catalogue_test

import (
	"strconv"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures/core"
)

// genlConfig returns a {config} value and whether it is set.
func genlConfig(x *X, name string) (string, bool) {
	for _, c := range x.M.Config {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// genlPluginInstalled reports whether {config_plugins} has a version row for the plugin.
func genlPluginInstalled(x *X, plugin string) bool {
	for _, c := range x.M.ConfigPlugins {
		if c.Plugin == plugin && c.Name == "version" {
			return true
		}
	}
	return false
}

// genlNewestCronStart returns the newest cron start before the window end: any scheduled
// task's last run, any task_log start, tool_task's lastcronstart.
func genlNewestCronStart(x *X) (float64, bool) {
	to := float64(x.To)
	newest, found := 0.0, false
	consider := func(t float64) {
		if t < to && (!found || t > newest) {
			newest, found = t, true
		}
	}
	for _, t := range x.M.TasksScheduled {
		consider(float64(t.LastRunTime))
	}
	for _, l := range x.M.TaskLogs {
		consider(l.TimeStart)
	}
	for _, c := range x.M.ConfigPlugins {
		if c.Plugin == "tool_task" && c.Name == "lastcronstart" {
			if v, err := strconv.ParseFloat(c.Value, 64); err == nil {
				consider(v)
			}
		}
	}
	return newest, found
}

func init() {
	expect("moodle.general.webrequestrate", func(x *X) any {
		n := 0
		for _, l := range x.M.Logs {
			if l.Origin == "web" && x.since(l.TimeCreated, time.Hour) {
				n++
			}
		}
		return float64(n) / 60
	})
	expect("moodle.general.webrequests", func(x *X) any {
		n := 0
		for _, l := range x.M.Logs {
			if l.Origin == "web" && x.in(l.TimeCreated) {
				n++
			}
		}
		return n
	})
	expect("moodle.general.instance", func(x *X) any { return 1 })
	expect("moodle.general.cronstate", func(x *X) any {
		newest, ok := genlNewestCronStart(x)
		if !ok || newest < float64(x.To-int64(core.CronLateAfter/time.Second)) {
			return 1
		}
		return 0
	})
	expect("moodle.general.backupsinprogress", func(x *X) any {
		if x.P.Dataroot == "" {
			return Skipped{}
		}
		panic("the catalogue test sites configure no dataroot")
	})
	expect("moodle.general.cronfailed", func(x *X) any {
		n := 0
		for _, t := range x.M.TasksScheduled {
			if t.FailDelay > 0 && t.Disabled == 0 {
				n++
			}
		}
		return n
	})

	expect("moodle.general.cronlateness", func(x *X) any {
		newest, _ := genlNewestCronStart(x) // 0 when none: the lateness is then the window end
		return float64(x.To) - newest
	})
	expect("moodle.general.hourlyslowpages", func(x *X) any {
		if !genlPluginInstalled(x, "local_advancedperfs") {
			return Skipped{}
		}
		n := 0
		for _, p := range x.M.SlowPages {
			if x.in(p.TimeCreated) {
				n++
			}
		}
		return n
	})
	upgrade := func(x *X) any {
		if x.P.Dirroot == "" {
			return Skipped{}
		}
		panic("the catalogue test sites configure no dirroot")
	}
	expect("moodle.general.hourlyneedsupgrading", upgrade)
	expect("moodle.general.upgradespending", upgrade)
	expect("moodle.general.adhocqueuesize", func(x *X) any {
		n := 0
		for _, t := range x.M.TasksAdhoc {
			if t.NextRunTime < x.To {
				n++
			}
		}
		return n
	})
	expect("moodle.general.version", func(x *X) any {
		v, _ := genlConfig(x, "version")
		return v
	})
	expect("moodle.general.release", func(x *X) any {
		v, _ := genlConfig(x, "release")
		return v
	})
}
