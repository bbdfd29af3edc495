// Package provision holds the logic of two subcommands that talk to a Zabbix server on behalf
// of a Moodle site.
//
// Install provisions Zabbix through its JSON-RPC API, idempotently: it creates the host groups
// that are missing (existing groups are never modified), previews the template import with
// configuration.importcompare and imports only when something differs, then creates each
// host or brings it up to date by adding what it lacks. It never unlinks a template, never
// removes a group or a macro it did not set, never touches an interface, and never creates a
// Moodle account or sends a password anywhere: a Moodle host is a trapper-only host. A second
// run against an unchanged plan reports no change at all, and a dry run reads but never
// writes.
//
// Check proves the wiring end to end, like a "Test connection" button: the database is
// reachable and holds a Moodle site, the trapper answers, the host exists in Zabbix with the
// Moodle items, and a canary value sent through the trapper comes back from the history.
//
// Both stop at the first failure and name the step and the object in the error; errors never
// carry a secret (no token, password or DSN).
package provision
