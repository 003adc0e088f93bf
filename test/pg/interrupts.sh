#!/usr/bin/env bash
# interrupts.sh - pg_cancel_backend and statement_timeout stop qa_answer on
# a very long context (about 20 s of work) within half a second (the README
# says about 0.1 s: the encoder checks between layers; the bound leaves room
# for a loaded machine), and the same backend then answers the next
# question; on one thread and on two.  Needs a running cluster with the
# extension installed (PGHOST/PGPORT/PGUSER/PGDATABASE); test/run provides it.
set -uo pipefail

LONG="repeat('Bob went home after a long day at the office. ', 20000)"
BOUND_MS=500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

now_ms() { date +%s%3N; }
fail() { echo "FAILED: $*"; failed=1; }

psql -X -q -c "CREATE EXTENSION IF NOT EXISTS bertqa" 2>/dev/null || exit 1
# A crash would make the postmaster restart its auxiliary processes.
checkpointer_start() {
	psql -X -At -c "SELECT backend_start FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
}
started=$(checkpointer_start)

# Both with one thread and with two (OpenMP threads alongside the backend's
# own, which must leave its signals alone).
for threads in 1 2; do
	export PGOPTIONS="-c bertqa.threads=$threads"
	echo "bertqa.threads = $threads:"
	# pg_cancel_backend from another session, one second into the call.
	psql -X -q -At -v VERBOSITY=terse >"$tmp/out" 2>"$tmp/err" <<-SQL &
	SET application_name = 'bertqa_cancel_test';
	SELECT pg_backend_pid();
	SELECT (qa_answer('Who went home?', $LONG)).answer;
	SELECT pg_backend_pid();
	SELECT (qa_answer('Who went home?', 'Bob went home.')).answer;
	SQL
	client=$!
	pid=
	for _ in $(seq 100); do
		pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity
			WHERE application_name = 'bertqa_cancel_test' AND state = 'active' AND query LIKE '%qa_answer%'")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	if [ -z "$pid" ]; then
		fail "the long call never showed up in pg_stat_activity"
	else
		sleep 1
		start=$(now_ms)
		psql -X -At -c "SELECT pg_cancel_backend($pid)" >/dev/null
		# The client prints the error as soon as the cancel is through.
		while ! grep -q 'canceling statement' "$tmp/err" && kill -0 $client 2>/dev/null; do
			sleep 0.01
		done
		elapsed=$(($(now_ms) - start))
		wait $client
		echo "pg_cancel_backend stopped qa_answer in $elapsed ms"
		[ "$elapsed" -lt $BOUND_MS ] || fail "cancel took $elapsed ms (bound $BOUND_MS ms)"
		grep -q 'ERROR:  canceling statement due to user request' "$tmp/err" ||
			fail "no cancel error: $(cat "$tmp/err")"
		# Same backend, then a correct answer.
		[ "$(sed -n 1p "$tmp/out")" = "$(sed -n 2p "$tmp/out")" ] || fail "the backend changed: $(cat "$tmp/out")"
		[ "$(sed -n 3p "$tmp/out")" = "Bob went home" ] || fail "no answer after the cancel: $(cat "$tmp/out")"
	fi

	# statement_timeout of one second.
	start=$(now_ms)
	psql -X -q -At -v VERBOSITY=terse >"$tmp/out" 2>"$tmp/err" <<-SQL
	SET statement_timeout = '1s';
	SELECT (qa_answer('Who went home?', $LONG)).answer;
	RESET statement_timeout;
	SELECT (qa_answer('Who went home?', 'Bob went home.')).answer;
	SQL
	elapsed=$(($(now_ms) - start - 1000))
	echo "statement_timeout stopped qa_answer $elapsed ms after it expired"
	[ "$elapsed" -lt $BOUND_MS ] || fail "timeout took $elapsed ms after expiry (bound $BOUND_MS ms)"
	grep -q 'ERROR:  canceling statement due to statement timeout' "$tmp/err" ||
		fail "no timeout error: $(cat "$tmp/err")"
	[ "$(cat "$tmp/out")" = "Bob went home" ] || fail "no answer after the timeout: $(cat "$tmp/out")"
done
unset PGOPTIONS

# No backend crashed.
[ "$(checkpointer_start)" = "$started" ] || fail "the server restarted"
exit $failed
