package core

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Storage measures: the size of file areas and backups, the database's size, and the size and
// age of the standard log. Every size is in bytes.
//
// File sizes add up {files}.filesize per file record, as the plugin did: a content stored once
// on disk but referenced by several records (a draft copy, a duplicated activity) counts once
// per record, so these are the sizes users see, not the disk usage of the file pool.

// storageFiles fills every file-area size in one pass over {files} with conditional sums,
// instead of the plugin's nine full scans.
var storageFiles = &measures.Query{
	Name: "storage.files",
	SQL: `SELECT SUM(CASE WHEN filearea = 'draft' THEN filesize ELSE 0 END) AS draft,
       SUM(CASE WHEN filearea <> 'draft' THEN filesize ELSE 0 END) AS stored,
       SUM(CASE WHEN filearea <> 'draft' AND mimetype LIKE 'application%' THEN filesize ELSE 0 END) AS documents,
       SUM(CASE WHEN filearea <> 'draft' AND mimetype LIKE 'video%' THEN filesize ELSE 0 END) AS video,
       SUM(CASE WHEN component = 'backup' OR (component = 'user' AND filearea = 'backup') THEN filesize ELSE 0 END) AS backup,
       SUM(CASE WHEN component = 'user' AND filearea = 'backup' THEN filesize ELSE 0 END) AS userbackup,
       SUM(CASE WHEN component = 'backup' AND filearea = 'activity' THEN filesize ELSE 0 END) AS activitybackup,
       SUM(CASE WHEN component = 'backup' AND filearea = 'course' THEN filesize ELSE 0 END) AS coursebackup,
       SUM(CASE WHEN component = 'backup' AND filearea = 'automated' THEN filesize ELSE 0 END) AS automatedbackup
  FROM {files}`,
	Cost: "One scan of the files table per day, filling nine keys (the plugin made nine scans every hour); file sizes cannot be bounded by a time range, so this runs daily rather than hourly.",
}

// storageDBSize reads the database's size from the engine's catalogue, per dialect.
var storageDBSize = &measures.Query{
	Name: "storage.dbsize",
	Dialects: map[measures.Dialect]string{
		measures.MySQL: `SELECT COALESCE(SUM(data_length + index_length), 0) AS dbsize
  FROM information_schema.tables
 WHERE table_schema = DATABASE()`,
		measures.Postgres: `SELECT pg_database_size(current_database()) AS dbsize`,
		measures.SQLite:   `SELECT pc.page_count * ps.page_size AS dbsize FROM pragma_page_count() pc, pragma_page_size() ps`,
	},
	Cost: "Catalogue lookup (information_schema, pg_database_size or SQLite pragmas); no table is read.",
}

// storageLogRows estimates the rows of the standard log without counting them. The statement
// never names the table by a string: the runner adds Moodle's table prefix to {table}
// references only, so MySQL reads the optimizer's estimate for a full read of the table
// (EXPLAIN's rows column: the same InnoDB statistic as information_schema.tables.table_rows)
// and PostgreSQL finds the table's pg_class row through the table's row type (the type of a
// NULL cast to the table), so no row is read. PostgreSQL's
// reltuples is -1 until the table is first vacuumed or analysed; the statistics system's live
// row count stands in then. SQLite, used for the demo and tests, reads the largest id.
var storageLogRows = &measures.Query{
	Name: "storage.logrows",
	Dialects: map[measures.Dialect]string{
		measures.MySQL: `EXPLAIN SELECT id FROM {logstore_standard_log}`,
		measures.Postgres: `SELECT CASE WHEN c.reltuples >= 0 THEN CAST(c.reltuples AS BIGINT)
            ELSE COALESCE(s.n_live_tup, 0) END AS "rows"
  FROM pg_class c
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE c.reltype = CAST(pg_typeof(CAST(NULL AS {logstore_standard_log})) AS oid)`,
		measures.SQLite: `SELECT COALESCE(MAX(id), 0) AS "rows" FROM {logstore_standard_log}`,
	},
	Cost: "A statistics lookup (MySQL EXPLAIN, PostgreSQL pg_class), or MAX(id) on SQLite; the log is never counted.",
}

// storageOldestLog is the creation time of the oldest standard log row.
var storageOldestLog = &measures.Query{
	Name: "storage.oldestlog",
	SQL:  `SELECT MIN(timecreated) AS oldest FROM {logstore_standard_log}`,
	Cost: "MIN over the index on logstore_standard_log.timecreated: one index probe.",
}

func init() {
	const perf = performanceTemplate
	const kib = "The plugin sent KiB (bytes / 1024, rounded to two decimals) as text; this sends bytes as an unsigned integer."
	perRecord := " Sizes add up file records, so a content referenced twice counts twice."
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.storage.draftareassize",
			Name:        "Draft file areas size",
			Description: "Total size in bytes of the files in draft areas (uploads not yet saved into an activity or profile)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "draft", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "File storage", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedareassize",
			Name:        "Stored file areas size",
			Description: "Total size in bytes of the files in every area except drafts." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "stored", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "File storage", Dashboard: true, Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storeddocumentssize",
			Name:        "Stored documents size",
			Description: "Total size in bytes of the non-draft files whose MIME type starts with application (PDF, office documents, archives, backups)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "documents", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "File storage by kind", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedvideosize",
			Name:        "Stored videos size",
			Description: "Total size in bytes of the non-draft files whose MIME type starts with video." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "video", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "File storage by kind", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedbackupsize",
			Name:        "Stored backups size",
			Description: "Total size in bytes of every backup file: course, activity and automated backups (component backup) and users' private backups (component user, area backup)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "backup", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Backup storage", Dashboard: true, Legacy: true,
			Fixes: "An operator-precedence bug added bytes of component backup to KiB of user backups; this is bytes throughout.",
		},
		measures.Measure{
			Key:         "moodle.storage.storeduserbackupsize",
			Name:        "User backups size",
			Description: "Total size in bytes of users' private backup files (component user, area backup)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "userbackup", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Backup storage", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedactivitybackupsize",
			Name:        "Activity backups size",
			Description: "Total size in bytes of activity backup files (component backup, area activity)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "activitybackup", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Backup storage", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedcoursebackupsize",
			Name:        "Course backups size",
			Description: "Total size in bytes of manual course backup files (component backup, area course)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "coursebackup", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Backup storage", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:         "moodle.storage.storedautomatedbackupsize",
			Name:        "Automated backups size",
			Description: "Total size in bytes of automated backup files kept in the file pool (component backup, area automated)." + perRecord,
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: storageFiles, Column: "automatedbackup", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Backup storage", Legacy: true, Fixes: kib,
		},
		measures.Measure{
			Key:  "moodle.storage.dbsize",
			Name: "Database size",
			Description: "Size in bytes of the Moodle database as the engine reports it: data plus indexes of every table of the current schema on MySQL and MariaDB, " +
				"pg_database_size of the current database on PostgreSQL, pages times page size on SQLite.",
			Family: measures.Hourly, Type: measures.Unsigned, Units: "B",
			Query: storageDBSize, Column: "dbsize", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Database size", Dashboard: true, Legacy: true,
			Fixes: "The plugin sent MiB and read information_schema on every engine, so on PostgreSQL it failed and took the rest of the hourly family down; this is bytes on each engine.",
		},
		measures.Measure{
			Key:  "moodle.storage.logsize",
			Name: "Standard log rows (estimate)",
			Description: "Estimated number of rows of the standard log (logstore_standard_log), read from the engine's statistics rather than counted: " +
				"the optimizer's row estimate on MySQL and MariaDB, pg_class.reltuples on PostgreSQL (the statistics system's live rows before the first analyse), the largest id on SQLite. " +
				"It is an estimate that may be off by some percent.",
			Family: measures.Hourly, Type: measures.Unsigned, Units: "rows",
			Query: storageLogRows, Column: "rows", Template: perf,
			Aggregate: measures.Sum, Domain: "storage", Graph: "Standard log rows", Legacy: true,
			Fixes: "The plugin ran COUNT(*) over the whole log every hour; this reads the engine's row estimate.",
		},
		measures.Measure{
			Key:         "moodle.storage.oldestlog",
			Name:        "Oldest standard log entry",
			Description: "Creation time (Unix time) of the oldest row of the standard log; 0 when the log is empty. With a log retention set, it trails now by about that retention.",
			Family:      measures.Hourly, Type: measures.Unsigned, Units: "unixtime",
			Query: storageOldestLog, Column: "oldest", Template: perf,
			Aggregate: measures.Min, Domain: "storage", Legacy: true,
			Fixes: "The plugin sent an RFC 2822 date string in the PHP time zone; this is a Unix time Zabbix can compare and display.",
		},
	)
}
