#!/usr/bin/env bash
# Point-in-time recovery drill with pgBackRest, on a throwaway cluster:
#
#   scripts/pitr_drill.sh
#
# initdb in a temporary directory, WAL archiving to an encrypted pgBackRest
# repository next to it, a full backup, 100 rows, the time T noted, 100 more
# rows; then the cluster is stopped, restored to T, started, and must hold the
# first 100 rows only. Prints each step; exits 0 when the restore is right.
# Needs PostgreSQL's server binaries and pgbackrest (as root it installs
# Debian's package and runs the cluster as the `postgres` user). Touches
# nothing outside its temporary directory, which it removes on exit
# (KEEP=1 keeps it, to look at the logs).
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'pitr_drill: FAIL: %s\n' "$*" >&2
	exit 1
}

if ! command -v pgbackrest >/dev/null; then
	[ "$(id -u)" -eq 0 ] || die "pgbackrest is not installed (apt-get install pgbackrest)"
	say "Installing Debian's pgbackrest"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbackrest >/dev/null
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr | head -n1)
[ -x "$bindir/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
	as_owner=(env -C / runuser -u postgres --)
fi

work=$(mktemp -d /tmp/sms-pitr-drill.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
cleanup() {
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	if [ -n "${KEEP:-}" ]; then
		say "Kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stanza=drill
conf="$work/pgbackrest.conf"
passphrase=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')

run() { "${as_owner[@]}" "$@"; }
pgb() { run pgbackrest --config="$conf" --stanza="$stanza" "$@"; }
sql() { run "$bindir/psql" -h "$work/run" -p "$port" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

say "Throwaway cluster in $work (port $port)"
run mkdir -p "$work/run" "$work/repo" "$work/log" "$work/lock"
run "$bindir/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --no-locale >"$work/initdb.log"

# The same settings deploy/pgbackrest/ documents, with paths in $work.
run tee "$conf" >/dev/null <<EOF
[global]
repo1-path=$work/repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$passphrase
repo1-retention-full=2
repo1-retention-diff=7
log-path=$work/log
lock-path=$work/lock
log-level-console=warn
start-fast=y
archive-async=n

[$stanza]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work/run
pg1-user=postgres
EOF
run chmod 600 "$conf"
run tee -a "$work/data/postgresql.conf" >/dev/null <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$work/run'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$conf --stanza=$stanza archive-push %p'
archive_timeout = 60
max_wal_senders = 3
EOF
run "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 start >/dev/null

say "pgbackrest stanza-create, check (WAL reaches the repository), full backup"
pgb stanza-create
pgb check
pgb --type=full backup
pgb info | sed 's/^/    /' >&2

say "100 rows, then the time T, then 100 more rows"
sql "CREATE TABLE drill (n integer PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"
sql "INSERT INTO drill (n) SELECT generate_series(1, 100)"
sleep 1
target=$(sql "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1
sql "INSERT INTO drill (n) SELECT generate_series(101, 200)"
before=$(sql "SELECT count(*) FROM drill")
say "T = $target; rows now: $before"
[ "$before" = 200 ] || die "expected 200 rows before the restore, found $before"
# The WAL holding the second insert must be in the repository, or recovery
# could not tell where T ends; `check` switches WAL and waits for its archive.
pgb check

say "Stopping the cluster; restore to T: pgbackrest --type=time --target=\"$target\" restore"
run "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
pgb --delta --type=time --target="$target" --target-action=promote restore
run "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 120 start >/dev/null
for _ in $(seq 60); do
	[ "$(sql 'SELECT pg_is_in_recovery()')" = f ] && break
	sleep 1
done
[ "$(sql 'SELECT pg_is_in_recovery()')" = f ] || die "the restored cluster is still in recovery"

after=$(sql "SELECT count(*) FROM drill")
highest=$(sql "SELECT max(n) FROM drill")
say "After the restore: $after rows, highest n = $highest"
if [ "$after" = 100 ] && [ "$highest" = 100 ]; then
	echo "pitr_drill: PASS: restored to $target, the 100 rows written before it and none after"
else
	die "expected 100 rows (n <= 100) after restoring to $target, found $after (max $highest)"
fi
