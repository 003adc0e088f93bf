# pg_cluster.sh - start and stop throwaway PostgreSQL clusters.
#
# Source this file, then call start_throwaway_cluster: it runs initdb in a
# new temporary directory, starts the server on a free localhost port with
# its socket in that directory, exports PGHOST/PGPORT/PGUSER/PGDATABASE, and
# arranges for the cluster to be stopped and removed when the shell exits,
# whether or not the caller succeeded.  start_cluster_node starts one more
# cluster the same way (for several nodes, as test/citus/run needs) without
# touching the PG* variables; stop_throwaway_cluster stops them all.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
BQ_CLUSTER_DIRS=()

# Run a command as the cluster's owner: initdb and postgres refuse root.
as_cluster_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local port
	for port in $(seq 54320 54999); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "no free port in 54320-54999" >&2
	return 1
}

stop_throwaway_cluster() {
	local dir
	for dir in "${BQ_CLUSTER_DIRS[@]}"; do
		if [ -d "$dir" ]; then
			as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
			rm -rf "$dir"
		fi
	done
	BQ_CLUSTER_DIRS=()
}

# start_cluster_node [postgres option...]: a new cluster, its directory in
# BQ_NODE_DIR (socket there, log in server.log) and its port in BQ_NODE_PORT.
start_cluster_node() {
	BQ_NODE_DIR=$(mktemp -d /tmp/bertqa-pg.XXXXXX)
	BQ_CLUSTER_DIRS+=("$BQ_NODE_DIR")
	trap stop_throwaway_cluster EXIT
	chmod 755 "$BQ_NODE_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$BQ_NODE_DIR"
	as_cluster_owner "$PG_BINDIR/initdb" -D "$BQ_NODE_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$BQ_NODE_DIR/initdb.log" 2>&1 || {
		cat "$BQ_NODE_DIR/initdb.log" >&2
		return 1
	}
	BQ_NODE_PORT=$(free_port) || return 1
	as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$BQ_NODE_DIR/data" -w -l "$BQ_NODE_DIR/server.log" \
		-o "-p $BQ_NODE_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$BQ_NODE_DIR -c fsync=off $*" \
		start >/dev/null || {
		cat "$BQ_NODE_DIR/server.log" >&2
		return 1
	}
}

start_throwaway_cluster() {
	start_cluster_node || return 1
	BQ_CLUSTER_DIR=$BQ_NODE_DIR
	PGPORT=$BQ_NODE_PORT
	export PGHOST=$BQ_CLUSTER_DIR PGPORT PGUSER=postgres PGDATABASE=postgres
	echo "throwaway PostgreSQL cluster on port $PGPORT in $BQ_CLUSTER_DIR"
}
