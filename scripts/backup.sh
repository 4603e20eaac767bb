# shellcheck shell=bash
# `./sms backup`: pgBackRest on the project-local cluster (var/pgdata), the
# same setup deploy/pgbackrest/ describes for a server, with every path of its
# own next to the cluster:
#
#   ./sms backup [full|diff|incr]   archive WAL, take a backup (default diff:
#                                   pgBackRest takes a full one if none exists),
#                                   then copy the media with their SHA-256
#   ./sms backup info               what the repository holds
#   ./sms backup restore TIME       stop the cluster, restore it as it was at
#                                   TIME (e.g. "2026-11-30 09:15:00+00"), start
#
# The repository is encrypted (aes-256-cbc); its passphrase is in the
# configuration file, readable by the cluster's owner only. Sourced by `sms`
# after scripts/lib.sh (local_cluster, pg_bindir, apt_install, say, die).

BACKUP_STANZA=sms

backup_paths() {
	# Sets data, owner, bindir, pgbr (configuration, repository, logs), conf, port.
	[ -s "$VAR/pgdata/PG_VERSION" ] ||
		die "./sms backup works on the project-local cluster: start it once with SMS_LOCAL_PG=1 ./sms run (or ./sms test)"
	data=$(readlink -f "$VAR/pgdata")
	owner=$(stat -c %U "$data")
	bindir=$(pg_bindir) || die "no PostgreSQL server binaries found"
	# Beside the cluster, so that its owner can reach it wherever var/ is.
	pgbr="$data.pgbackrest"
	conf="$pgbr/pgbackrest.conf"
	port=$(sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$data/postgresql.conf" | tail -n1)
}

as_cluster_owner() {
	if is_root && [ "$owner" != root ]; then
		env -C / runuser -u "$owner" -- "$@"
	else
		"$@"
	fi
}

pgbackrest_local() { as_cluster_owner pgbackrest --config="$conf" --stanza="$BACKUP_STANZA" "$@"; }

ensure_pgbackrest() {
	have pgbackrest && return 0
	if is_root && have apt-get; then
		say "Installing Debian's pgbackrest"
		apt_install pgbackrest || die "apt-get install pgbackrest failed"
	else
		die "pgbackrest is not installed: sudo apt-get install pgbackrest"
	fi
}

backup_setup() {
	# Idempotent: configuration, WAL archiving (a restart the first time), stanza.
	local data owner bindir pgbr conf port
	backup_paths
	ensure_pgbackrest
	if [ ! -s "$conf" ]; then
		say "pgBackRest configuration and encrypted repository in $pgbr"
		mkdir -p "$pgbr/repo" "$pgbr/log" "$pgbr/lock" "$pgbr/spool"
		local passphrase
		passphrase=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
		(
			umask 077
			cat >"$conf" <<-EOF
				# Written by ./sms backup (scripts/backup.sh); deploy/pgbackrest/ explains each line.
				[global]
				repo1-path=$pgbr/repo
				repo1-cipher-type=aes-256-cbc
				repo1-cipher-pass=$passphrase
				repo1-retention-full=2
				repo1-retention-diff=7
				log-path=$pgbr/log
				lock-path=$pgbr/lock
				spool-path=$pgbr/spool
				log-level-console=warn
				start-fast=y

				[$BACKUP_STANZA]
				pg1-path=$data
				pg1-port=$port
				pg1-user=postgres
				pg1-socket-path=$pgbr/run
			EOF
		)
		mkdir -p "$pgbr/run"
		is_root && chown -R "$owner" "$pgbr"
		chmod 700 "$pgbr"
	fi
	if ! grep -q '^# Added by ./sms backup' "$data/postgresql.conf"; then
		say "Turning on WAL archiving to pgBackRest (restarts the project-local cluster)"
		# pgBackRest talks to a local server only through a Unix socket: one
		# in $pgbr/run, which only the cluster's owner can open (0700).
		cat >>"$data/postgresql.conf" <<-EOF

			# Added by ./sms backup: WAL archiving to pgBackRest ($conf).
			wal_level = replica
			archive_mode = on
			archive_command = 'pgbackrest --config=$conf --stanza=$BACKUP_STANZA archive-push %p'
			archive_timeout = 60
			unix_socket_directories = '$pgbr/run'
			unix_socket_permissions = 0700
		EOF
		# Only the cluster's owner can open that socket (0700): trust it there.
		sed -i '1i local all postgres trust  # ./sms backup: pgBackRest over the 0700 socket' "$data/pg_hba.conf"
		as_cluster_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -m fast restart >/dev/null ||
			die "PostgreSQL did not restart, see $data/server.log"
	fi
	if ! pgbackrest_local info 2>/dev/null | grep -q 'status: ok'; then
		say "pgbackrest stanza-create"
		pgbackrest_local stanza-create
	fi
	pgbackrest_local check
}

cmd_backup() {
	local what=${1:-diff}
	export SMS_LOCAL_PG=1
	setup_common
	local data owner bindir pgbr conf port
	case "$what" in
	full | diff | incr)
		backup_setup
		backup_paths
		say "pgbackrest --type=$what backup"
		pgbackrest_local --type="$what" backup
		mkdir -p "$VAR/backups"
		pgbackrest_local --output=json info >"$VAR/backups/info.json.new"
		mv "$VAR/backups/info.json.new" "$VAR/backups/info.json"
		pgbackrest_local info
		say "Media, with their SHA-256 (var/backups/media)"
		"$SMS_ROOT/scripts/media_backup.sh" "$VAR/backups/media"
		say "Done. /health/ reports this backup with SMS_BACKUP_INFO_FILE=$VAR/backups/info.json"
		;;
	info)
		backup_paths
		pgbackrest_local info
		;;
	restore)
		local target=${2:?usage: ./sms backup restore "YYYY-MM-DD HH:MM:SS+00"}
		backup_paths
		say "Stopping the project-local cluster; restoring it as it was at $target"
		as_cluster_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
		pgbackrest_local --delta --type=time --target="$target" --target-action=promote restore
		as_cluster_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 300 start >/dev/null ||
			die "PostgreSQL did not start after the restore, see $data/server.log"
		say "Restored to $target. The media are not rolled back: var/backups/media/<time>/ holds each copy"
		;;
	*) die "usage: ./sms backup [full|diff|incr|info|restore TIME]" ;;
	esac
}
