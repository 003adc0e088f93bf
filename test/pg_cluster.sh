# pg_cluster.sh - start and stop a throwaway PostgreSQL cluster.
#
# Source this file, then call start_throwaway_cluster: it runs initdb in a
# new temporary directory, starts the server on a free localhost port with
# its socket in that directory, exports PGHOST/PGPORT/PGUSER/PGDATABASE, and
# arranges for the cluster to be stopped and removed when the shell exits,
# whether or not the caller succeeded.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}

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
	if [ -n "${BQ_CLUSTER_DIR:-}" ] && [ -d "$BQ_CLUSTER_DIR" ]; then
		as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$BQ_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$BQ_CLUSTER_DIR"
	fi
}

start_throwaway_cluster() {
	BQ_CLUSTER_DIR=$(mktemp -d /tmp/bertqa-pg.XXXXXX)
	trap stop_throwaway_cluster EXIT
	chmod 755 "$BQ_CLUSTER_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$BQ_CLUSTER_DIR"
	as_cluster_owner "$PG_BINDIR/initdb" -D "$BQ_CLUSTER_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$BQ_CLUSTER_DIR/initdb.log" 2>&1 || {
		cat "$BQ_CLUSTER_DIR/initdb.log" >&2
		return 1
	}
	PGPORT=$(free_port)
	as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$BQ_CLUSTER_DIR/data" -w -l "$BQ_CLUSTER_DIR/server.log" \
		-o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$BQ_CLUSTER_DIR -c fsync=off" \
		start >/dev/null || {
		cat "$BQ_CLUSTER_DIR/server.log" >&2
		return 1
	}
	export PGHOST=$BQ_CLUSTER_DIR PGPORT PGUSER=postgres PGDATABASE=postgres
	echo "throwaway PostgreSQL cluster on port $PGPORT in $BQ_CLUSTER_DIR"
}
