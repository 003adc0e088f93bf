#!/usr/bin/env bash
# operations.sh - what a DBA relies on, in a throwaway cluster of its own
# (the test changes server settings and takes a base backup):
#  1. pg_basebackup leaves the weight cache out: after answering in fp32 and
#     int8, the backup is the data directory less its cache, and a server
#     started from the backup answers the same and remakes its cache;
#  2. qa_cache_clean removes the entries made from a model file that has
#     changed, but not those a backend still maps, until it lets go; and a
#     model file changing in the middle of qa_best_answer fails the query;
#  3. bertqa.cache_dir naming a missing directory, or one the server cannot
#     write, warns, and answering goes on without the cache; a writable
#     one holds it.
# BENCH_MODEL (a model directory) runs part 1 on that model instead of the
# bundled one and prints the sizes (bench/backup_size uses it).
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib/check.sh
. test/lib/precision_expected.sh
. test/pg_cluster.sh

start_throwaway_cluster >/dev/null || exit 1
tmp=$(mktemp -d /tmp/bertqa-operations.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
trap 'as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$tmp/backup" -m immediate stop >/dev/null 2>&1; rm -rf "$tmp"; stop_throwaway_cluster' EXIT
data=$BQ_CLUSTER_DIR/data
cache=$data/pgsql_tmp_bertqa
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
kb() { du -sk "$1" | cut -f1; }

sql -c "CREATE EXTENSION bertqa" || exit 1
if [ -n "${BENCH_MODEL:-}" ]; then
	sql -c "LOAD 'bertqa'" -c "ALTER SYSTEM SET bertqa.model = '$BENCH_MODEL'" -c "SELECT pg_reload_conf()" >/dev/null || exit 1
	sleep 0.5
fi
question="SELECT answer, answer_start, round(score::numeric, 6) FROM qa_answer('Who ruled the duchy of Normandy?', 'Rollo ruled the duchy of Normandy after 911, and his descendants ruled it after him.')"

# ---- 1. the cache stays out of base backups ----------------------------------
precisions=fp32
precision_expected int8 && precisions="fp32 int8"
for p in $precisions; do
	sql -c "SET bertqa.precision = $p" -c "$question" >"$tmp/answer.$p" 2>&1
done
check "the cache holds packed weights for: $precisions" \
	test "$(ls "$cache" | grep -c 'packed-.*safetensors$')" -ge "$(echo $precisions | wc -w)"
as_cluster_owner "$PG_BINDIR/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
	-D "$tmp/backup" -X fetch --no-sync >"$tmp/basebackup.log" 2>&1
check "pg_basebackup succeeds" test $? = 0
check "the backup has no weight cache" test ! -e "$tmp/backup/pgsql_tmp_bertqa"
data_kb=$(kb "$data")
cache_kb=$(kb "$cache")
backup_kb=$(kb "$tmp/backup")
echo "data directory $data_kb kB, of which the weight cache $cache_kb kB; base backup $backup_kb kB"
# the backup is the data directory less the cache, give or take WAL and logs
check "the backup does not grow by the cache" test $((backup_kb - (data_kb - cache_kb))) -lt 16384

port=$(free_port)
as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$tmp/backup" -w -l "$tmp/backup.log" \
	-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp" start >/dev/null
check "a server starts from the backup" test $? = 0
for p in $precisions; do
	psql -X -q -At -h "$tmp" -p "$port" -U postgres -d postgres -c "SET bertqa.precision = $p" \
		-c "$question" >"$tmp/restored.$p" 2>&1
	check "the restored server answers as the original ($p)" cmp -s "$tmp/answer.$p" "$tmp/restored.$p"
done
check "the restored server remade its cache on first use" \
	test "$(ls "$tmp/backup/pgsql_tmp_bertqa" 2>/dev/null | grep -c 'packed-.*safetensors$')" -ge "$(echo $precisions | wc -w)"
as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$tmp/backup" -m fast stop >/dev/null
if [ -n "${BENCH_MODEL:-}" ]; then
	check_summary "$0"
	exit
fi

# ---- 2. stale entries go, but not while a backend maps them ----------------------
model=$tmp/model
mkdir "$model"
cp test/fixtures/tiny-model/* "$model/"
chmod -R a+rX "$model"
[ "$(id -u)" = 0 ] && chown -R postgres "$model"	# the server touches it below
use_model="SET bertqa.model = '$model'"
# a backend that answers with the copy, then keeps it mapped for a while
sql -c "$use_model" -c "$question" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
holder=$!
for i in $(seq 100); do
	[ "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE source LIKE '$model/%' AND in_use")" -ge 1 ] && break
	sleep 0.2
done
check "the holding backend's packed weights are listed, in use, fresh" \
	test "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE source = '$model/model.safetensors' AND in_use AND NOT stale AND source_exists")" -ge 1
touch -d '2001-01-01' "$model/model.safetensors"	# the file changes: another identity
sql -c "$use_model" -c "$question" >/dev/null
stale_in_use=$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE stale AND in_use")
check "the old version's packed weights are stale and in use" test "$stale_in_use" -ge 1
sql -c "SELECT entry FROM qa_cache_clean()" >"$tmp/clean1"
check "cleaning keeps what a backend maps" \
	test "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE stale AND in_use")" = "$stale_in_use"
kill "$holder" 2>/dev/null
sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null
for i in $(seq 50); do
	[ "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE stale AND in_use")" = 0 ] && break
	sleep 0.2
done
sql -c "SELECT entry FROM qa_cache_clean()" >"$tmp/clean2"
check "once unmapped, the stale entries go" test -s "$tmp/clean2"
check "no stale entry is left" test "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE stale")" = 0
check "the current version's entries stay" \
	test "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE source = '$model/model.safetensors'")" -ge 1
check "the model still answers" test -n "$(sql -c "$use_model" -c "$question")"
# its file changing between two rows of one qa_best_answer: the rows read
# so far were cut for the old model, so the query fails rather than mix them
out=$(sql -c "$use_model" -c "CREATE FUNCTION pg_temp.touch_model(i int) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
	IF i = 2 THEN
		EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch -d 2002-02-02 $model/model.safetensors');
	END IF;
	RETURN 'Rollo ruled Normandy, row ' || i || '.';
END \$\$" -c "SELECT (qa_best_answer('Who ruled Normandy?', pg_temp.touch_model(i), i)).answer FROM generate_series(1, 3) i" 2>&1)
check "a model reloaded in the middle of qa_best_answer is an error" \
	grep -q "the bertqa model was reloaded while qa_best_answer read its rows" <<<"$out"

# ---- 3. a cache directory that cannot be used ------------------------------------------
sql -c "LOAD 'bertqa'" -c "ALTER SYSTEM SET bertqa.cache_dir = '$tmp/missing'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
out=$(sql -c "$question" 2>&1)
check "a missing bertqa.cache_dir warns" grep -q "bertqa.cache_dir \"$tmp/missing\" cannot hold the weight cache" <<<"$out"
check "and answering goes on without it" grep -qxF "$(cat "$tmp/answer.fp32")" <<<"$out"
check "qa_cache_entries says there is no cache" \
	grep -q "bertqa.cache_dir cannot hold one" <<<"$(sql -c "SELECT * FROM qa_cache_entries()" 2>&1)"
mkdir "$tmp/readonly"
chmod 555 "$tmp/readonly"
sql -c "LOAD 'bertqa'" -c "ALTER SYSTEM SET bertqa.cache_dir = '$tmp/readonly'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
out=$(sql -c "$question" 2>&1)
check "a bertqa.cache_dir the server cannot write warns" grep -q "The server cannot write to it" <<<"$out"
check "and answering goes on without it" grep -qxF "$(cat "$tmp/answer.fp32")" <<<"$out"
mkdir "$tmp/elsewhere"
[ "$(id -u)" = 0 ] && chown postgres "$tmp/elsewhere"
sql -c "LOAD 'bertqa'" -c "ALTER SYSTEM SET bertqa.cache_dir = '$tmp/elsewhere'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
check "a writable bertqa.cache_dir holds the cache" test "$(sql -c "$question" 2>&1)" = "$(cat "$tmp/answer.fp32")"
check "its entries are listed" test "$(sql -c "SELECT count(*) FROM qa_cache_entries() WHERE entry LIKE '%packed%'")" -ge 1
check "and they are in that directory" test "$(ls "$tmp/elsewhere" | grep -c 'packed-.*safetensors$')" -ge 1

check_summary "$0"
