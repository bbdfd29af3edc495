// Package bench holds the speed, memory and query-cost evidence of moodle-zabbix: benchmarks of
// the runner on every family and engine, of delivery to a loopback trapper and of template
// generation, and a test that runs EXPLAIN on every instant, hourly and log query of the
// catalogue against a synthetic site loaded into MariaDB and PostgreSQL.
//
// The package has no code of its own; everything lives in its tests. Run
//
//	MZ_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	MZ_PG_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	go test ./bench/ -run TestQueryCost -v
//
// for the cost test and bench/run.sh for the benchmarks. The DSNs are administrator DSNs: each
// run creates its own temporary database and drops it at the end. See docs/benchmarks.md.
package bench
