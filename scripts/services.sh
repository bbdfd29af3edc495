#!/usr/bin/env bash
# Sets up every service the integration tests need on a Debian 12 machine
# without systemd or Docker: MariaDB, PostgreSQL, a Zabbix 6.0 server and its
# API (PHP built-in web server), and a Zabbix 7.0 beside it in a Debian 13
# tree (scripts/zabbix70.sh). Idempotent: what is already there is kept,
# what runs keeps running. Must run as root. Writes .ci/services.env.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=scripts/zabbix-common.sh
. "$here/zabbix-common.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "services.sh: must run as root" >&2
	exit 1
fi

# Only one set-up at a time (several shells or CI may call it together).
mkdir -p "$MZ_STATE"
exec 8>"$MZ_STATE/services.lock"
flock 8

export DEBIAN_FRONTEND=noninteractive

t_all=$(now)
declare -a timings=()
timing() { # timing LABEL START
	timings+=("$(printf '%-34s %6.1fs' "$1" "$(elapsed "$2")")")
}

# ---------------------------------------------------------------- packages
mysql_pkgs=(mariadb-server mariadb-client)
pg_pkgs=(postgresql)
zabbix_pkgs=(zabbix-server-mysql zabbix-frontend-php zabbix-agent php8.2-cli php8.2-cgi
	php8.2-mysql php8.2-bcmath php8.2-mbstring php8.2-gd php8.2-xml php8.2-ldap jq curl locales)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
# Database servers: only installed when they are neither installed nor running
# (this machine may run them from elsewhere).
if ! command -v mariadbd >/dev/null && ! mysql_ping; then missing+=("${mysql_pkgs[@]}"); fi
if ! command -v pg_ctlcluster >/dev/null && ! pg_ping; then missing+=("${pg_pkgs[@]}"); fi
for p in "${zabbix_pkgs[@]}"; do installed "$p" || missing+=("$p"); done

if [ ${#missing[@]} -gt 0 ]; then
	t=$(now)
	log "installing: ${missing[*]}"
	# Package scripts must not start any service: a policy-rc.d that answers
	# 101 forbids it. Keep an existing one and put it back afterwards.
	policy=/usr/sbin/policy-rc.d
	if [ -e "$policy" ]; then mv "$policy" "$policy.mz-saved"; fi
	restore_policy() {
		rm -f "$policy"
		if [ -e "$policy.mz-saved" ]; then mv "$policy.mz-saved" "$policy"; fi
	}
	trap restore_policy EXIT
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	apt-get update -qq
	timing "apt-get update" "$t"
	t=$(now)
	apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >"$MZ_STATE/apt-install.log" 2>&1 ||
		{ tail -50 "$MZ_STATE/apt-install.log" >&2; exit 1; }
	restore_policy
	trap - EXIT
	timing "apt-get install (${#missing[@]} packages)" "$t"
else
	log "packages: all present"
fi

# ---------------------------------------------------------------- MariaDB
t=$(now)
if mysql_ping; then
	log "MariaDB: running"
else
	log "MariaDB: starting"
	install -d -o mysql -g mysql /run/mysqld
	if [ ! -d /var/lib/mysql/mysql ]; then
		mysql_install_db --user=mysql --datadir=/var/lib/mysql >"$MZ_STATE/mysql_install_db.log" 2>&1
	fi
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	wait_until 60 "MariaDB" mysql_ping
	timing "MariaDB start" "$t"
fi

# A dedicated account for the tests, reachable over TCP whatever the root
# account's authentication plugin is (unix_socket on a fresh install).
mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS moodle_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$MZ_MYSQL_USER'@'localhost' IDENTIFIED BY '$MZ_MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS '$MZ_MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MZ_MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$MZ_MYSQL_USER'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$MZ_MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS zabbix CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$MZ_ZBX_DB_USER'@'localhost' IDENTIFIED BY '$MZ_ZBX_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$MZ_ZBX_DB_USER'@'127.0.0.1' IDENTIFIED BY '$MZ_ZBX_DB_PASSWORD';
GRANT ALL PRIVILEGES ON zabbix.* TO '$MZ_ZBX_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON zabbix.* TO '$MZ_ZBX_DB_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL

# ---------------------------------------------------------------- PostgreSQL
t=$(now)
# Newest cluster version under /etc/postgresql (empty if there is none).
pg_version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort -V | tail -1 || true)"
if pg_ping; then
	log "PostgreSQL: running"
else
	[ -n "$pg_version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
	log "PostgreSQL $pg_version: starting"
	pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
	wait_until 60 "PostgreSQL" pg_ping
	timing "PostgreSQL start" "$t"
fi
if ! psql -h 127.0.0.1 -U postgres -w -d postgres -Atc 'select 1' >/dev/null 2>&1; then
	[ -n "$pg_version" ] || die "cannot log in to PostgreSQL as postgres@127.0.0.1 and no cluster config to change"
	log "PostgreSQL: trusting postgres@127.0.0.1"
	hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
	sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
	pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
	wait_until 30 "PostgreSQL trust" psql -h 127.0.0.1 -U postgres -w -d postgres -Atc 'select 1'
fi
if [ "$(psql -h 127.0.0.1 -U postgres -w -d postgres -Atc "select count(*) from pg_database where datname = 'moodle_test'")" = 0 ]; then
	psql -h 127.0.0.1 -U postgres -w -d postgres -qc 'CREATE DATABASE moodle_test OWNER postgres'
fi

# ---------------------------------------------------------------- Zabbix schema
# The schema counts as loaded when the last file, data.sql (one transaction),
# has committed: its Admin user exists, as does schema.sql's dbversion row.
# A half-loaded database (interrupted run) is dropped and loaded again.
zbx_loaded() {
	[ "$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='zabbix' AND table_name IN ('users','hosts','dbversion')")" = 3 ] &&
		[ "$(mysql_root -N zabbix -e "SELECT (SELECT COUNT(*) FROM users WHERE username='Admin') + (SELECT COUNT(*) FROM dbversion)")" = 2 ]
}
if zbx_loaded; then
	log "Zabbix schema: already loaded"
else
	t=$(now)
	if [ "$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='zabbix'")" != 0 ]; then
		log "Zabbix schema: partial, reloading"
		mysql_root -e 'DROP DATABASE zabbix; CREATE DATABASE zabbix CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;'
	fi
	log "Zabbix schema: loading"
	sqldir=/usr/share/zabbix-server-mysql
	{
		echo 'SET GLOBAL log_bin_trust_function_creators = 1;'
		zcat "$sqldir/schema.sql.gz" "$sqldir/images.sql.gz" "$sqldir/data.sql.gz"
	} | mysql_root zabbix
	mysql_root -e 'SET GLOBAL log_bin_trust_function_creators = 0;'
	# The stock "Zabbix server" host polls an agent that does not run here:
	# disable it so its checks do not add noise and load.
	mysql_root zabbix -e "UPDATE hosts SET status = 1 WHERE host = 'Zabbix server' AND status = 0;"
	zbx_loaded || die "Zabbix schema did not load"
	timing "Zabbix schema load" "$t"
fi

# ---------------------------------------------------------------- Zabbix server
t=$(now)
write_server_conf
if [ "$MZ_CONF_CHANGED" = 1 ]; then
	"$here/zabbix-server.sh" restart
else
	"$here/zabbix-server.sh" start
fi
timing "Zabbix server ready" "$t"

# ---------------------------------------------------------------- Zabbix proxy
t=$(now)
"$here/zabbix-proxy.sh" start
timing "Zabbix proxy ready" "$t"

# ---------------------------------------------------------------- Zabbix frontend/API
t=$(now)
write_frontend_conf
# The frontend needs en_US.UTF-8, or every page and graph says "Locale for
# language en_US is not found". A PHP server started before the locale
# existed does not see it: restart it.
if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
	log "locale: generating en_US.UTF-8"
	sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
	grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >>/etc/locale.gen
	locale-gen >/dev/null
	if [ -s "$MZ_STATE/php.pid" ] && kill -0 "$(cat "$MZ_STATE/php.pid")" 2>/dev/null; then
		log "Zabbix API: restarting PHP for the new locale"
		kill -- "-$(cat "$MZ_STATE/php.pid")" 2>/dev/null || true
		wait_until 30 "port ${MZ_API_LISTEN##*:} to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/${MZ_API_LISTEN##*:}) 2>/dev/null"
	fi
fi
if api_ready; then
	log "Zabbix API: running"
else
	log "Zabbix API: starting PHP built-in server on $MZ_API_LISTEN"
	# A PHP server we started earlier that no longer answers: end it and its
	# workers (setsid made it a process group leader).
	if [ -s "$MZ_STATE/php.pid" ] && kill -0 "$(cat "$MZ_STATE/php.pid")" 2>/dev/null; then
		kill -- "-$(cat "$MZ_STATE/php.pid")" 2>/dev/null || true
		sleep 1
	fi
	port_open "${MZ_API_LISTEN##*:}" && die "port ${MZ_API_LISTEN##*:} is taken by another process"
	install -d -m 755 "$MZ_STATE/log"
	PHP_CLI_SERVER_WORKERS=4 setsid nohup php \
		-d memory_limit=512M -d post_max_size=16M -d max_execution_time=300 -d date.timezone=UTC \
		-S "$MZ_API_LISTEN" -t /usr/share/zabbix \
		>>"$MZ_STATE/log/php.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$MZ_STATE/php.pid"
	wait_until 60 "Zabbix API" api_ready
	timing "Zabbix API ready" "$t"
fi
# Login check: proves the frontend reads its configuration and the database.
login_reply="$(api_call '{"jsonrpc":"2.0","method":"user.login","params":{"username":"Admin","password":"zabbix"},"id":1}')"
session="$(jq -r '.result // empty' <<<"$login_reply")"
[ -n "$session" ] || die "Zabbix API login as Admin failed: $(jq -c '.error // .' <<<"$login_reply")"
api_call "{\"jsonrpc\":\"2.0\",\"method\":\"user.logout\",\"params\":[],\"id\":2,\"auth\":\"$session\"}" >/dev/null

# ---------------------------------------------------------------- Zabbix 7.0
t=$(now)
bash "$here/zabbix70.sh" setup
timing "Zabbix 7.0" "$t"

# ---------------------------------------------------------------- Zabbix 7.0 proxy
# In the 7.0 tree, once the 7.0 server is set up; nothing when there is no 7.0 tree.
t=$(now)
"$here/zabbix70-proxy.sh" start
timing "Zabbix 7.0 proxy ready" "$t"

# ---------------------------------------------------------------- env file
mkdir -p "$repo/.ci"
cat >"$repo/.ci/services.env.tmp" <<ENV
# Written by scripts/services.sh; source it before go test.
export MZ_MYSQL_DSN='$MZ_MYSQL_USER:$MZ_MYSQL_PASSWORD@tcp(127.0.0.1:3306)/moodle_test?parseTime=false'
export MZ_PG_DSN='postgres://postgres@127.0.0.1:5432/moodle_test?sslmode=disable'
export MZ_ZABBIX_SERVER='127.0.0.1:$MZ_SERVER_PORT'
export MZ_ZABBIX_API='http://$MZ_API_LISTEN/api_jsonrpc.php'
export MZ_ZABBIX_USER='Admin'
export MZ_ZABBIX_PASSWORD='zabbix'
export MZ_ZABBIX_CONF='$MZ_CONF'
export MZ_ZABBIX_SENDER='/usr/bin/zabbix_sender'
export MZ_ZABBIX_PROXY='127.0.0.1:10061'
export MZ_ZABBIX_PROXY_NAME='moodle-zabbix-ci-proxy'
export MZ_ZABBIX_PROXY70='127.0.0.1:10072'
export MZ_ZABBIX_PROXY70_NAME='moodle-zabbix-ci-proxy70'
export MZ_REQUIRE_INTEGRATION=1
ENV
bash "$here/zabbix70.sh" env >>"$repo/.ci/services.env.tmp"
mv "$repo/.ci/services.env.tmp" "$repo/.ci/services.env"

version="$(api_call '{"jsonrpc":"2.0","method":"apiinfo.version","params":[],"id":1}' | jq -r .result)"
echo "services.sh: ready (Zabbix $version, env in .ci/services.env)"
timing "total" "$t_all"
for line in "${timings[@]}"; do echo "  $line"; done
