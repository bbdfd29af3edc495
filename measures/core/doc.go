// Package core holds the measures of Moodle core, one file per domain (users, courses, forum,
// quiz, storage, tasks...), and the low-level discovery rules with the item prototypes they
// segment (discovery_*.go: top-level course categories, authentication plugins, courses of
// interest, cohorts, components). Importing it registers them in measures.Default.
package core
