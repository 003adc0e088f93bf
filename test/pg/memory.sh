#!/usr/bin/env bash
# memory.sh - a backend's memory does not grow with use: after a warm-up
# round, 2 x 10,000 qa_answer calls (short contexts, bundled model), 2,000
# qa_answers calls and 2 x 1,000 calls that fail inside the core must leave
# the backend's private memory (RssAnon) within GROWTH_KB_MAX of where it
# was (the allocator still settles a little after the warm-up).  Needs a
# running cluster with the extension installed; test/run provides it.
set -uo pipefail

GROWTH_KB_MAX=${GROWTH_KB_MAX:-2048}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

psql -X -q -c "CREATE EXTENSION IF NOT EXISTS bertqa" 2>/dev/null || exit 1

# One round of calls: :n qa_answer, :n/10 qa_answers, :n/10 core failures.
cat >"$tmp/round.sql" <<'SQL'
SELECT count(answer) FROM generate_series(1, :n) g,
	qa_answer('Who went home at ' || g || '?',
			  repeat('Alice stayed. ', g % 7) || 'Bob went home at ' || g || ' o''clock after work.');
SELECT count(*) FROM generate_series(1, :n / 10) g,
	qa_answers('Who went home at ' || g || '?', 'Bob went home at ' || g || ' o''clock.', 3);
SELECT set_config('bertqa_test.failures', (:n / 10)::text, false) IS NOT NULL AS set;
DO $$
DECLARE
	failures int := 0;
BEGIN
	SET LOCAL bertqa.max_seq_len = 8;
	FOR i IN 1..current_setting('bertqa_test.failures')::int LOOP
		BEGIN
			PERFORM qa_answer('Who went home at ' || i || ' o''clock today?', 'Bob went home.');
		EXCEPTION WHEN invalid_parameter_value THEN
			failures := failures + 1;
		END;
	END LOOP;
	RAISE NOTICE 'failed calls: %', failures;
END $$;
SQL

# A warm-up round, then two measured ones.  The client reads the backend's
# /proc entry between statements, so the test must run on the server's
# machine as root or as the server's user.
psql -X -q -At -v ON_ERROR_STOP=1 >"$tmp/out" 2>"$tmp/err" <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\set n 2000
\i $tmp/round.sql
\! awk '/^(VmRSS|RssAnon):/ {printf "before %s %s\n", \$1, \$2}' /proc/\$BACKEND_PID/status
\set n 10000
\i $tmp/round.sql
\! awk '/^(VmRSS|RssAnon):/ {printf "middle %s %s\n", \$1, \$2}' /proc/\$BACKEND_PID/status
\i $tmp/round.sql
\! awk '/^(VmRSS|RssAnon):/ {printf "after %s %s\n", \$1, \$2}' /proc/\$BACKEND_PID/status
SQL
rc=$?
if [ $rc != 0 ]; then
	echo "FAILED: memory test: $(cat "$tmp/err")"
	exit 1
fi
[ "$(grep -c 'failed calls: 1000$' "$tmp/err")" = 2 ] || { echo "FAILED: error path not exercised: $(cat "$tmp/err")"; exit 1; }
middle=$(awk '$1 == "middle" && $2 == "RssAnon:" {print $3}' "$tmp/out")
before=$(awk '$1 == "before" && $2 == "RssAnon:" {print $3}' "$tmp/out")
after=$(awk '$1 == "after" && $2 == "RssAnon:" {print $3}' "$tmp/out")
rss_before=$(awk '$1 == "before" && $2 == "VmRSS:" {print $3}' "$tmp/out")
rss_after=$(awk '$1 == "after" && $2 == "VmRSS:" {print $3}' "$tmp/out")
if [ -z "$before" ] || [ -z "$after" ]; then
	echo "FAILED: could not read the backend's memory: $(cat "$tmp/out" "$tmp/err")"
	exit 1
fi
growth=$((after - before))
echo "24,000 calls: private memory (RssAnon) $before -> $middle -> $after kB (growth $growth kB, bound $GROWTH_KB_MAX kB); VmRSS $rss_before -> $rss_after kB"
[ "$growth" -le "$GROWTH_KB_MAX" ] || { echo "FAILED: the backend's memory grew by $growth kB"; exit 1; }
