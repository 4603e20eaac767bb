# shellcheck shell=bash
# Steps shared by `./sms run`, `./sms test` and `./sms manage`. Each step checks
# before it acts, so a second run only re-checks and is fast.

SMS_ROOT=${SMS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VENV="$SMS_ROOT/.venv"
VAR="$SMS_ROOT/var"
PY="$VENV/bin/python"

if [ -t 2 ]; then _B=$'\033[1m' _R=$'\033[0m'; else _B="" _R=""; fi
say() { printf '%s==> %s%s\n' "$_B" "$*" "$_R" >&2; }
warn() { printf 'sms: warning: %s\n' "$*" >&2; }
die() {
	printf 'sms: error: %s\n' "$*" >&2
	exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
	# Only as root on a Debian-family system; refreshes the package lists once if needed.
	is_root && have apt-get || return 1
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >&2 || { apt-get update -q >&2 && apt-get install -y -q "$@" >&2; }
}

apt_has() { # true when apt knows an installable candidate for package $1
	have apt-cache || return 1
	local candidate
	candidate=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
	[ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

# --- Python ------------------------------------------------------------------

python_ok() { # $1 runs and is Python >= 3.12 (pyenv shims exist but may not run)
	[ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

python_candidates() {
	[ -n "${SMS_PYTHON:-}" ] && echo "$SMS_PYTHON"
	local name root version
	for name in python3.13 python3.12; do
		have "$name" && command -v "$name"
	done
	local -a roots=("$HOME/.pyenv")
	have pyenv && roots+=("$(pyenv root 2>/dev/null || true)")
	for root in "${roots[@]}"; do
		[ -d "$root/versions" ] || continue
		# 3.13 first, then 3.12 (what Django 6.1 and the pins are tested on), then newer.
		for version in $(
			ls "$root/versions" | grep -E '^3\.(13|12)\.[0-9]+$' | sort -t. -k2,2nr -k3,3nr
			ls "$root/versions" | grep -E '^3\.(1[4-9]|[2-9][0-9])\.[0-9]+$' | sort -t. -k2,2n -k3,3nr
		); do
			echo "$root/versions/$version/bin/python3"
		done
	done
	have python3 && command -v python3
	return 0
}

find_python() {
	local candidate
	while IFS= read -r candidate; do
		if python_ok "$candidate"; then
			echo "$candidate"
			return 0
		fi
	done < <(python_candidates)
	return 1
}

ensure_python() { # prints the interpreter to build .venv with
	local py package
	if py=$(find_python); then
		echo "$py"
		return 0
	fi
	if is_root && have apt-get; then
		apt-get update -q >&2 || true
		for package in python3.13 python3.12; do
			if apt_has "$package"; then
				say "No Python >= 3.12 found: installing Debian's $package"
				apt_install "$package" "$package-venv" && py=$(find_python) && {
					echo "$py"
					return 0
				}
			fi
		done
	fi
	die "no Python >= 3.12 found (tried python3.13, python3.12, ~/.pyenv/versions/*, python3).
  Install one, then run this again:
    Debian 13 / Ubuntu 24.04 or newer:  sudo apt-get install python3 python3-venv
    Debian 12 / older Ubuntu:           install pyenv (https://github.com/pyenv/pyenv), then: pyenv install 3.13
  or point SMS_PYTHON at a Python 3.12+ interpreter: SMS_PYTHON=/path/to/python3.13 ./sms run"
}

ensure_venv() {
	if [ -x "$PY" ] && python_ok "$PY" && "$PY" -m pip --version >/dev/null 2>&1; then
		return 0
	fi
	local py
	py=$(ensure_python)
	say "Creating .venv with $py ($("$py" --version 2>&1))"
	rm -rf "$VENV"
	if ! "$py" -m venv "$VENV"; then
		# Debian splits venv/ensurepip into pythonX.Y-venv.
		local xy
		xy=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
		rm -rf "$VENV"
		apt_install "python$xy-venv" && "$py" -m venv "$VENV" ||
			die "could not create a virtual environment with $py: install python$xy-venv (sudo apt-get install python$xy-venv)"
	fi
}

requirements_hash() {
	{
		"$PY" --version 2>&1
		cat "$SMS_ROOT"/requirements/*.txt
	} | sha256sum | cut -d' ' -f1
}

ensure_requirements() {
	local stamp="$VENV/.sms-requirements.sha256" wanted
	wanted=$(requirements_hash)
	if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
		return 0
	fi
	say "Installing requirements/dev.txt into .venv (only when requirements/ changes)"
	"$PY" -m pip install --disable-pip-version-check --progress-bar off -q \
		-r "$SMS_ROOT/requirements/dev.txt" >&2
	echo "$wanted" >"$stamp"
}

# --- PostgreSQL ----------------------------------------------------------------

pg_bindir() { # newest installed server binaries
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
		[ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && {
			echo "$dir"
			return 0
		}
	done
	if have initdb && have pg_ctl; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	return 1
}

local_cluster() {
	# A cluster of our own in var/pgdata, on a free port, password-protected,
	# listening on 127.0.0.1 only. initdb refuses to run as root, so as root the
	# cluster belongs to the unprivileged `postgres` user (or `sms-postgres`).
	local bindir
	if ! bindir=$(pg_bindir); then
		if is_root && have apt-get; then
			say "No PostgreSQL found: installing Debian's postgresql package"
			apt_install postgresql || die "apt-get install postgresql failed"
			bindir=$(pg_bindir) || die "postgresql installed but no initdb/pg_ctl found"
		else
			die "no PostgreSQL server found. Either:
    sudo apt-get install postgresql        (then run this again), or
    export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/sms   (an existing server)"
		fi
	fi

	mkdir -p "$VAR"
	local data="$VAR/pgdata" owner="" pwfile="$VAR/pgpassword"
	local -a as_owner=()
	if is_root; then
		if id postgres >/dev/null 2>&1; then
			owner=postgres
		else
			owner=sms-postgres
			id "$owner" >/dev/null 2>&1 ||
				useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$owner"
		fi
		as_owner=(env -C / runuser -u "$owner" --) # from /: $owner may not enter the cwd
		if ! "${as_owner[@]}" test -x "$VAR"; then
			# The checkout is not reachable by $owner (e.g. under /root): keep the
			# cluster under /var/lib and point var/pgdata at it.
			data="/var/lib/sms-postgres/$(printf '%s' "$SMS_ROOT" | sha256sum | cut -c1-12)"
			[ -L "$VAR/pgdata" ] || ln -sfn "$data" "$VAR/pgdata"
		fi
	fi

	if [ ! -s "$data/PG_VERSION" ]; then
		say "Creating a project-local PostgreSQL cluster in $data"
		mkdir -p "$data"
		chmod 700 "$data"
		[ -n "$owner" ] && chown "$owner" "$data"
		local password tmp
		password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
		(
			umask 077
			echo "$password" >"$pwfile"
		)
		tmp=$(mktemp)
		echo "$password" >"$tmp"
		[ -n "$owner" ] && chown "$owner" "$tmp"
		"${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$tmp" \
			--auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$VAR/initdb.log" 2>&1 ||
			"${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$tmp" \
				--auth=scram-sha-256 -E UTF8 --no-locale >"$VAR/initdb.log" 2>&1 ||
			{
				rm -f "$tmp"
				die "initdb failed, see $VAR/initdb.log"
			}
		rm -f "$tmp"
		local port
		port=$("$PY" "$SMS_ROOT/scripts/dbtool.py" free-port "${SMS_PG_PORT:-5433}")
		cat >>"$data/postgresql.conf" <<-EOF

			# Added by ./sms: project-local cluster, TCP on loopback only.
			port = $port
			listen_addresses = '127.0.0.1'
			unix_socket_directories = ''
		EOF
	fi

	local port
	port=$(sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$data/postgresql.conf" | tail -n1)
	if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		say "Starting the project-local PostgreSQL on 127.0.0.1:$port"
		"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null ||
			die "PostgreSQL did not start, see $data/server.log"
	fi
	local password
	password=$(cat "$pwfile") || die "$pwfile is missing: ./sms stop-db && rm -rf var/pgdata, then run again"
	# The cluster's superuser only makes the two roles (ensure_postgres).
	SMS_DB_ADMIN_URL="postgres://postgres:$password@127.0.0.1:$port/postgres"
}

stop_local_cluster() {
	local data="$VAR/pgdata" bindir
	[ -s "$data/PG_VERSION" ] || {
		say "No project-local PostgreSQL cluster (var/pgdata)"
		return 0
	}
	bindir=$(pg_bindir) || die "no pg_ctl found"
	data=$(readlink -f "$data")
	if is_root; then
		env -C / runuser -u "$(stat -c %U "$data")" -- "$bindir/pg_ctl" -D "$data" -m fast stop
	else
		"$bindir/pg_ctl" -D "$data" -m fast stop
	fi
}

ensure_postgres() {
	# Order: DATABASE_URL; SMS_DB_ADMIN_URL; a server on 127.0.0.1:5432 that lets
	# `postgres` in; a project-local cluster (SMS_LOCAL_PG=1 forces this one).
	# In the last three, the database is SMS_DB_NAME (default sms) and two roles
	# are made for it (README, "Database roles"): NAME_owner, which owns it and
	# runs migrations, and NAME_app, which the application connects as; their
	# passwords are generated once and kept in var/db-roles/.
	local name=${SMS_DB_NAME:-sms}
	if [ -n "${DATABASE_URL:-}" ]; then
		say "Database: DATABASE_URL from the environment"
		if [ -z "${DATABASE_OWNER_URL:-}" ]; then
			warn "DATABASE_OWNER_URL is not set: migrations and the application share one database role, which can switch the never-delete triggers off (development only; see README, \"Database roles\")"
		elif [ -n "${SMS_DB_ADMIN_URL:-}" ]; then
			"$PY" "$SMS_ROOT/scripts/dbtool.py" roles || die "could not set up the database roles"
		fi
		"$PY" "$SMS_ROOT/scripts/dbtool.py" create
		return
	fi
	if [ -n "${SMS_DB_ADMIN_URL:-}" ]; then
		say "Database: the server of SMS_DB_ADMIN_URL (database $name)"
	elif [ -z "${SMS_LOCAL_PG:-}" ] &&
		"$PY" "$SMS_ROOT/scripts/dbtool.py" check postgres://postgres@127.0.0.1:5432/postgres 2>/dev/null; then
		SMS_DB_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
		say "Database: the PostgreSQL server on 127.0.0.1:5432 (database $name)"
	else
		local_cluster
		say "Database: project-local cluster (var/pgdata)"
	fi
	local urls
	urls=$("$PY" "$SMS_ROOT/scripts/dbtool.py" local-roles "$SMS_DB_ADMIN_URL" "$name" "$VAR") ||
		die "could not set up the database roles ${name}_owner and ${name}_app"
	DATABASE_URL=$(sed -n 1p <<<"$urls")
	DATABASE_OWNER_URL=$(sed -n 2p <<<"$urls")
	export DATABASE_URL DATABASE_OWNER_URL
	# The roles are made; nothing below needs the administrator.
	unset SMS_DB_ADMIN_URL
	say "Database roles: ${name}_owner (migrations, provisioning), ${name}_app (the application)"
}

# --- The rest ------------------------------------------------------------------

manage() { (cd "$SMS_ROOT" && "$PY" manage.py "$@"); }

ensure_messages() {
	# Compiled .mo files are committed; recompile only when a .po is newer and
	# gettext is installed.
	[ -d "$SMS_ROOT/locale" ] && have msgfmt || return 0
	local po stale=""
	while IFS= read -r po; do
		[ "$po" -nt "${po%.po}.mo" ] && stale=1
	done < <(find "$SMS_ROOT/locale" -name '*.po')
	if [ -n "$stale" ]; then
		say "Compiling translations"
		manage compilemessages --ignore=.venv --ignore=var -v 0
	fi
}

ensure_chromium() {
	have chromium && return 0
	if is_root && have apt-get; then
		say "Installing Debian's chromium for the browser tests"
		apt_install chromium && return 0
		warn "could not install chromium: the browser tests will say they cannot run"
	else
		warn "chromium is not installed (sudo apt-get install chromium): the browser tests will say they cannot run"
	fi
}

ensure_gettext() {
	# The catalogue test (tests/i18n) runs makemessages, which needs xgettext/msgmerge.
	have xgettext && have msgmerge && return 0
	if is_root && have apt-get; then
		say "Installing Debian's gettext for the translation catalogue test"
		apt_install gettext && return 0
	fi
	warn "gettext is not installed (sudo apt-get install gettext): the catalogue test will fail"
}

ensure_test_pgbackrest() {
	# The restore drill's pgBackRest test (tests/backups/test_drill_pgbackrest.py).
	have pgbackrest && return 0
	if is_root && have apt-get; then
		say "Installing Debian's pgbackrest for the restore drill's test"
		apt_install pgbackrest && return 0
	fi
	warn "pgbackrest is not installed (sudo apt-get install pgbackrest): the pgBackRest drill test will fail"
}

setup_common() {
	mkdir -p "$VAR/static" # collectstatic's target; WhiteNoise warns when it is missing
	ensure_venv
	ensure_requirements
	ensure_postgres
}
