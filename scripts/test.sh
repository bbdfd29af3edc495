#!/usr/bin/env bash
# The project's whole test run (make test, CI): start the services, vet,
# run every test with the integration settings, then fuzz each fuzz target
# for a short, bounded time. Prints a summary; exits non-zero on any failure.
# FUZZTIME (default 10s) sets the time per fuzz target; FUZZTIME=0 skips fuzzing.
# PKGS (default ./...) limits vet, tests and fuzzing to some packages.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
fuzztime="${FUZZTIME:-10s}"
read -r -a pkgs <<<"${PKGS:-./...}"

declare -a summary=()
failures=0

# step NAME COMMAND...: runs a command, records its result and duration.
step() {
	local name="$1" start end rc
	shift
	echo
	echo "=== $name: $*"
	start=$(date +%s)
	"$@"
	rc=$?
	end=$(date +%s)
	if [ "$rc" -eq 0 ]; then
		summary+=("$(printf 'PASS  %4ss  %s' $((end - start)) "$name")")
	else
		summary+=("$(printf 'FAIL  %4ss  %s (exit %d)' $((end - start)) "$name" "$rc")")
		failures=$((failures + 1))
	fi
	return "$rc"
}

print_summary() {
	echo
	echo "=== summary"
	for line in "${summary[@]}"; do echo "  $line"; done
	if [ "$failures" -eq 0 ]; then
		echo "=== all ${#summary[@]} steps passed"
	else
		echo "=== $failures of ${#summary[@]} steps FAILED"
	fi
	echo "steps: $((${#summary[@]} - failures)) passed, $failures failed"
}

if ! step "services" bash scripts/services.sh; then
	print_summary
	exit 1
fi
# shellcheck source=/dev/null
. .ci/services.env

step "go vet" go vet "${pkgs[@]}"
step "go test" go test -count=1 -timeout 30m "${pkgs[@]}"

# fuzz PKG NAME: fuzzes one target for $fuzztime. Go 1.26's fuzzing coordinator can report a
# bare "context deadline exceeded" when the time runs out while a worker is mid-input (Go issue
# 75804, fixed in Go 1.27): no input failed and none was written. Such a run is tried once more;
# any other failure, or a written failing input, fails at once.
fuzz() {
	local pkg="$1" name="$2" out rc try
	out="$(mktemp)"
	for try in 1 2; do
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" </dev/null 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		if [ "$rc" -eq 0 ] || [ "$try" -eq 2 ] ||
			! grep -q '^    context deadline exceeded$' "$out" || grep -q 'Failing input written' "$out"; then
			break
		fi
		echo "=== $name: the fuzzing time ran out mid-input (Go issue 75804), no input failed: once more"
	done
	rm -f "$out"
	return "$rc"
}

# Fuzz targets: every FuzzXxx in the _test.go files of the packages.
if [ "$fuzztime" != 0 ]; then
	found=0
	while read -r dir; do
		grep -qsE '^func Fuzz[A-Z0-9_]' "$dir"/*_test.go || continue
		pkg="./$(realpath --relative-to=. "$dir")"
		if ! targets="$(go test -list '^Fuzz' "$pkg" 2>&1)"; then
			echo "$targets"
			summary+=("FAIL     -  list fuzz targets in $pkg")
			failures=$((failures + 1))
			continue
		fi
		for name in $(grep -E '^Fuzz' <<<"$targets"); do
			found=$((found + 1))
			step "fuzz $pkg $name ($fuzztime)" fuzz "$pkg" "$name"
		done
	done < <(go list -e -f '{{.Dir}}' "${pkgs[@]}")
	if [ "$found" -eq 0 ]; then echo "=== no fuzz targets found"; fi
fi

print_summary
[ "$failures" -eq 0 ]
