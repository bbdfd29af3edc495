// Package core holds the measures of Moodle core, one file per domain (users, courses, forum,
// quiz, storage, tasks...). Importing it registers them in measures.Default.
package core
