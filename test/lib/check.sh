# check.sh - the counting helper the shell test scripts share.  Source it;
# call 'check NAME COMMAND...' for each expectation and 'check_summary FILE'
# at the end, which prints "FILE: N passed, N failed" and returns nonzero if
# anything failed.

passed=0
failed=0

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

check_summary() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}
