// Package bench holds the speed, memory and query-cost evidence of moodle-zabbix: benchmarks of
// the runner on every family and engine, of delivery to a loopback trapper and of template
// generation, and a test that runs EXPLAIN on every instant, hourly and log query of the
// catalogue against a synthetic site loaded into MariaDB and PostgreSQL.
//
// It also holds the scale evidence: a minute of a 1,000-site daemon (BenchmarkFleetInstant),
// 100,000 values through the sender (BenchmarkSend100k) and a day of bursts on a site of
// 50,000 users and 10 million log rows loaded inside MariaDB and PostgreSQL
// (BenchmarkDayCost, with MZ_BENCH_DAY=target).
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
