# check.sh - the counting helper the shell test scripts share.  Source it;
# call 'check NAME COMMAND...' for each expectation, 'skip NAME REASON' for
# one that cannot run here, and 'check_summary FILE' at the end, which
# prints "FILE: N passed, N failed, N skipped" and returns 1 if anything
# failed, else 77 if anything was skipped (test/run counts that as skipped).

passed=0
failed=0
skipped=0

# check NAME COMMAND...: the command must succeed.
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name" >&2
	fi
}

# skip NAME REASON: NAME cannot run here, for REASON (printed on stdout).
skip() {
	skipped=$((skipped + 1))
	echo "SKIPPED $1: $2"
}

check_summary() {
	echo "$1: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ] || return 1
	[ "$skipped" = 0 ] || return 77
}
