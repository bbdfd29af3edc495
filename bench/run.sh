#!/bin/sh
# Runs the moodle-zabbix benchmarks and the query-cost test, and writes the results under
# bench/results/:
#   <date>.txt            raw `go test -bench` output (-benchmem -count=$COUNT), benchstat input
#   <date>-benchstat.txt  the benchstat summary, when benchstat can be run
#   <date>-cost.txt       the EXPLAIN table of TestQueryCost (when a DSN is set)
#
# Environment:
#   MZ_MYSQL_DSN, MZ_PG_DSN  administrator DSNs; the engines without one are skipped
#   MZ_BENCH_LARGE=1         also load fixture.Large into PostgreSQL and run BenchmarkLarge
#   BENCH                    benchmark regexp (default: .)
#   COUNT                    runs of each benchmark (default: 3)
#   BENCHTIME                go test -benchtime (default: 1s)
#   BENCHSTAT                benchstat command (default: benchstat from PATH, else
#                            `go run golang.org/x/perf/cmd/benchstat@latest`; "none" to skip)
#
# Compare two runs with: benchstat bench/results/OLD.txt bench/results/NEW.txt
set -eu

cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
stamp=$(date -u +%Y-%m-%d)
raw="$out/$stamp.txt"
count=${COUNT:-3}
benchtime=${BENCHTIME:-1s}
bench=${BENCH:-.}

{
	echo "# moodle-zabbix benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "# $(go version)"
	echo "# kernel: $(uname -sr); cpus: $(nproc); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	if [ -r /etc/debian_version ]; then echo "# debian: $(cat /etc/debian_version)"; fi
	echo "# engines: mysql=${MZ_MYSQL_DSN:+set} postgres=${MZ_PG_DSN:+set} large=${MZ_BENCH_LARGE:-}"
} >"$raw"

echo "benchmarks -> $raw"
go test ./bench/ -run '^$' -bench "$bench" -benchmem -count="$count" -benchtime="$benchtime" -timeout 60m | tee -a "$raw"

if [ -n "${MZ_MYSQL_DSN:-}${MZ_PG_DSN:-}" ]; then
	echo "query cost -> $out/$stamp-cost.txt"
	go test ./bench/ -run 'TestQueryCost' -count=1 -v -timeout 20m >"$out/$stamp-cost.txt" 2>&1 ||
		echo "TestQueryCost failed: see $out/$stamp-cost.txt" >&2
fi

bs=${BENCHSTAT:-}
if [ -z "$bs" ]; then
	if command -v benchstat >/dev/null 2>&1; then
		bs=benchstat
	else
		bs="go run golang.org/x/perf/cmd/benchstat@latest"
	fi
fi
if [ "$bs" != none ]; then
	echo "benchstat -> $out/$stamp-benchstat.txt"
	# shellcheck disable=SC2086 # $bs may be a command with arguments
	$bs "$raw" >"$out/$stamp-benchstat.txt" || echo "benchstat failed; the raw results are in $raw" >&2
fi
