// Package faults holds the fault-injection tests of moodle-zabbix: they run the product
// against the real test services (MariaDB, PostgreSQL, a Zabbix 6.0 server) and break
// something on purpose while it works.
//
//   - TestZabbixStoppedMidBurst stops the Zabbix server while families are being run and
//     sent, starts it again, and reads every value back from Zabbix's history: each one must
//     be stored exactly once, with the clock it was computed for.
//   - TestKillDuringSends kills the moodle-zabbix binary with SIGKILL, again and again, while
//     it sends to a trapper that answers slowly or not at all, then checks that nothing
//     acknowledged was lost, that nothing was received twice unless a kill explains it, and
//     that the spool reopens cleanly and drains.
//   - TestConnectionKilledMidBurst kills the database connection of a running burst (KILL on
//     MariaDB, pg_terminate_backend on PostgreSQL): only the measure that was running fails.
//   - TestSlowMeasureTimeout shows a slow measure cut by the server-side statement limit and
//     by the client-side timeout, without holding up the others.
//   - TestUnreachableSite runs the daemon with one healthy site, one whose database refuses
//     connections and one whose database accepts connections but never answers.
//   - TestReadOnlySession checks that a measure cannot write to the Moodle database.
//
// Every test logs one line starting with "FIGURES" with what it injected and counted; see
// docs/reliability.md. The package has no code of its own besides the tests.
package faults
