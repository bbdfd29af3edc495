// Package measures is the engine that turns declarative measure definitions into values.
//
// A Measure says what a Zabbix item holds: its key, its family (Instant, Hourly, Daily, Weekly or
// Monthly, which sets its schedule and its calendar Window), its value type, the Query that
// produces it and everything the templates and the docs need (units, aggregate, triggers,
// graph). A Discovery is a low-level discovery rule whose grouped query fills item prototypes.
// Definitions register themselves in a Registry (Default for the whole program), which
// validates each one when it is registered.
//
// The Runner executes one family for one Site: it computes the family's window in the site's
// time zone, runs each shared query once in a read-only, time-limited session, and returns the
// values stamped with the window's last second, with the failures and the skipped measures. SQL
// is written once in Moodle's style ({table}, ?) and rewritten for each Dialect (MariaDB or
// MySQL, PostgreSQL, SQLite).
//
// The package knows Moodle only as far as the runner needs (role classes, courses of interest,
// installed plugins); the measures themselves live in measures/core, discovery and contrib.
package measures
