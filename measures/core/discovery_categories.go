package core

import (
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Course categories and their item prototypes: the top-level categories, or every category down
// to the site's category depth. Each prototype covers the whole subtree of its category: the
// category itself and every category below it.
//
// A category cc lies in the subtree of top category t when its path equals t's path
// ("/<id>") or starts with t's path followed by a slash. The test is written with SUBSTR and
// LENGTH, which MariaDB, PostgreSQL and SQLite share, instead of string concatenation,
// which they spell differently. The same test on context paths finds the contexts below a
// category's context.

// categoriesUnder is true when category cc lies in the subtree of top category t.
const categoriesUnder = `(cc.path = t.path OR (SUBSTR(cc.path, 1, LENGTH(t.path)) = t.path
        AND SUBSTR(cc.path, LENGTH(t.path) + 1, 1) = '/'))`

// subtreeEnrolments are the enrolments of each subtree's courses, from t (the categories down
// to the depth) to ue, less the deleted accounts; its placeholders are the window end twice,
// then the category depth.
var subtreeEnrolments = `FROM {course_categories} t
  JOIN {course_categories} cc ON ` + categoriesUnder + `
  JOIN {course} c ON c.category = cc.id
  JOIN {enrol} e ON e.courseid = c.id AND e.status = 0
  JOIN {user_enrolments} ue ON ue.enrolid = e.id AND ue.status = 0
       AND ue.timestart < ? AND (ue.timeend = 0 OR ue.timeend > ?)
 WHERE ` + notDeletedSQL("ue.userid") + `
   AND t.depth <= ?`

// subtreeUserPairs counts each subtree's enrolled users as the distinct (category, user) pairs,
// made before they are counted: PostgreSQL hashes two integers, where COUNT(DISTINCT) per group
// sorts every enrolment. It is the derived table p of topCategoriesSQL.
var subtreeUserPairs = `SELECT d.catid, COUNT(*) AS enrolled
  FROM (SELECT DISTINCT t.id AS catid, ue.userid
  ` + subtreeEnrolments + `) d
 GROUP BY d.catid`

// subtreeUsersDistinct is subtreeUserPairs for MariaDB and MySQL, with COUNT(DISTINCT) per
// subtree: MariaDB keeps each group's distinct users in memory, where the pairs go through a
// temporary table with a unique key (2.3 s against 3.4 s at 1.7 million enrolments).
var subtreeUsersDistinct = `SELECT t.id AS catid, COUNT(DISTINCT ue.userid) AS enrolled
  ` + subtreeEnrolments + `
 GROUP BY t.id`

// topCategoriesSQL is the statement of the category discovery, with enrolled the derived table
// that counts each subtree's enrolled users (subtreeUserPairs or subtreeUsersDistinct).
func topCategoriesSQL(enrolled string) string {
	return `SELECT t.id AS catid, t.name AS catname, COALESCE(k.courses, 0) AS courses, COALESCE(p.enrolled, 0) AS enrolled
  FROM {course_categories} t
  LEFT JOIN (SELECT t.id AS catid, COUNT(*) AS courses
               FROM {course_categories} t
               JOIN {course_categories} cc ON ` + categoriesUnder + `
               JOIN {course} c ON c.category = cc.id
              WHERE t.depth <= ?
              GROUP BY t.id) k ON k.catid = t.id
  LEFT JOIN (` + enrolled + `) p ON p.catid = t.id
 WHERE t.depth <= ?
 ORDER BY t.sortorder, t.id`
}

// topCategories is the discovery rule of the course categories down to the site's category
// depth (the top level by default). Its query also counts each subtree's courses and enrolled
// users: the enrolled users are the category's population for the privacy threshold and its
// rank when the rule's cap is reached, and two prototypes read their values from it.
var topCategories = &measures.Discovery{
	Key:         "moodle.discovery.topcategories",
	Name:        "Top-level course categories",
	Description: "Discovers the course categories at the top of the category tree (depth 1), or down to the site's category depth, in their sort order; each one stands for its whole subtree.",
	Family:      measures.Daily,
	Query: &measures.Query{
		Name: "topcategories.discovery",
		// Each course lies in one category, so a subtree's courses are counted without DISTINCT.
		// The deleted accounts are left out with notDeletedSQL rather than a join to the user
		// table: 5.8 s against 12 s on MariaDB and 1.1 s against 1.4 s on PostgreSQL at 1.7
		// million enrolments.
		SQL:      topCategoriesSQL(subtreeUserPairs),
		Dialects: map[measures.Dialect]string{measures.MySQL: topCategoriesSQL(subtreeUsersDistinct)},
		Args:     func(p measures.Params) []any { return []any{p.Depth(), p.To(), p.To(), p.Depth(), p.Depth()} },
		Cost:     "Two passes over the categories down to the depth and their courses; the second joins their enrolment instances and user enrolments (indexes on category, courseid and enrolid) and keeps each subtree's distinct users, less the deleted accounts (index on user.deleted).",
	},
	Macros: []measures.LLDMacro{
		{Macro: "{#CATID}", Column: "catid"},
		{Macro: "{#CATNAME}", Column: "catname"},
	},
	Population: "enrolled",
}

// topCategoriesActivity counts the day's log events of the courses in each subtree.
var topCategoriesActivity = &measures.Query{
	Name: "topcategories.activity",
	SQL: `SELECT t.id AS catid, COUNT(*) AS requests,
       COUNT(DISTINCT CASE WHEN ` + OwnEventSQL("l") + ` THEN l.userid END) AS distinctusers
  FROM {course_categories} t
  JOIN {course_categories} cc ON ` + categoriesUnder + `
  JOIN {course} c ON c.category = cc.id
  JOIN {logstore_standard_log} l ON l.courseid = c.id
 WHERE t.depth <= ?
   AND l.timecreated >= ? AND l.timecreated < ?
 GROUP BY t.id`,
	Args: func(p measures.Params) []any { return []any{p.Depth(), p.From(), p.To()} },
	Cost: "Bounded by timecreated to one day of the log (indexes on timecreated and courseid); grouped by top category.",
}

// topCategoriesStorage sums the file sizes below each top category's context.
var topCategoriesStorage = &measures.Query{
	Name: "topcategories.storage",
	// The files are summed per context path first, so the path test runs once per (top
	// category, context that holds files) instead of once per (category context, context of
	// the site): 0.45 s against 1.6 s on PostgreSQL at 90,000 contexts. MariaDB keeps the
	// join below, which it runs from the 20 top categories (0.23 s against 0.54 s).
	SQL: `SELECT t.id AS catid, SUM(fx.size) AS storage
  FROM {course_categories} t
  JOIN {context} tx ON tx.contextlevel = 40 AND tx.instanceid = t.id
  JOIN (SELECT x.path, SUM(f.filesize) AS size
          FROM {files} f
          JOIN {context} x ON x.id = f.contextid
         WHERE f.filename <> '.'
         GROUP BY x.path) fx
    ON (fx.path = tx.path OR (SUBSTR(fx.path, 1, LENGTH(tx.path)) = tx.path
        AND SUBSTR(fx.path, LENGTH(tx.path) + 1, 1) = '/'))
 WHERE t.depth <= ?
 GROUP BY t.id`,
	Dialects: map[measures.Dialect]string{measures.MySQL: `SELECT t.id AS catid, SUM(f.filesize) AS storage
  FROM {course_categories} t
  JOIN {context} tx ON tx.contextlevel = 40 AND tx.instanceid = t.id
  JOIN {context} x ON (x.path = tx.path OR (SUBSTR(x.path, 1, LENGTH(tx.path)) = tx.path
        AND SUBSTR(x.path, LENGTH(tx.path) + 1, 1) = '/'))
  JOIN {files} f ON f.contextid = x.id
 WHERE t.depth <= ? AND f.filename <> '.'
 GROUP BY t.id`},
	Args: func(p measures.Params) []any { return []any{p.Depth()} },
	Cost: "One pass over the files table, summed per context, then the contexts that hold files matched to the top categories' context paths (MariaDB and MySQL: the contexts below each top category, then their files through the index on contextid).",
}

func init() {
	measures.MustRegister(
		measures.Measure{
			Key:         "moodle.topcategory.requests[{#CATID}]",
			Name:        "Category {#CATNAME}: log events (day)",
			Description: "Log events of the day (any origin) in the courses of the category and of every category below it.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "events",
			Query: topCategoriesActivity, Column: "requests", Discovery: topCategories,
			Aggregate: measures.Sum, Domain: "courses",
			Fixes: "The pro plugin derived the category with MySQL 8 or MariaDB regular expressions and interpolated paths into the SQL.",
		},
		measures.Measure{
			Key:         "moodle.topcategory.distinctusers[{#CATID}]",
			Name:        "Category {#CATNAME}: distinct users (day)",
			Description: "Distinct users with at least one log event of their own during the day in the courses of the category and of every category below it: not the guest account, not a visitor who is not logged in (user 0), not someone logged in as the user, not a command-line script (the rule of the site-wide user counts).",
			Fixes:       "The pro plugin counted every distinct log userid: the guest account, user 0 (visitors not logged in), \"log in as\" sessions and command-line scripts included.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: topCategoriesActivity, Column: "distinctusers", Discovery: topCategories,
			Aggregate: measures.Sum, Domain: "courses",
		},
		measures.Measure{
			Key:  "moodle.topcategory.enrolled[{#CATID}]",
			Name: "Category {#CATNAME}: enrolled users",
			Description: "Distinct non-deleted users with an active enrolment at the end of the day in a course of the category or of a category below it: " +
				"enrolment and enrolment instance enabled, started before the end of the day and not ended.",
			Family: measures.Daily, Type: measures.Unsigned, Units: "users",
			Query: topCategories.Query, Column: "enrolled", Discovery: topCategories,
			Aggregate: measures.Sum, Domain: "courses",
			Fixes: "The pro plugin ignored the enrolment start and end dates.",
		},
		measures.Measure{
			Key:         "moodle.topcategory.courses[{#CATID}]",
			Name:        "Category {#CATNAME}: courses",
			Description: "Courses, visible or not, in the category and in every category below it.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "courses",
			Query: topCategories.Query, Column: "courses", Discovery: topCategories,
			Aggregate: measures.Sum, Domain: "courses",
		},
		measures.Measure{
			Key:         "moodle.topcategory.storage[{#CATID}]",
			Name:        "Category {#CATNAME}: file storage",
			Description: "Bytes of the files (directory entries left out) stored in the context of the category and in every context below it (subcategories, courses, activities, blocks); a file referenced twice counts twice.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "B",
			Query: topCategoriesStorage, Column: "storage", Discovery: topCategories,
			Aggregate: measures.Sum, Domain: "storage",
			Fixes: "The pro plugin sent KiB and always 0 when top categories were configured.",
		},
	)
}
