#!/usr/bin/env bash
# A second test Zabbix, version 7.0, beside the host's 6.0: Debian 13
# (trixie) packages in a debootstrap tree, its server on its own port with its
# own database on the host's MariaDB, and PHP's built-in web server for its
# frontend and API. No Docker, no systemd: chroot, setsid and nohup.
#
#   zabbix70.sh setup    build or repair the tree, load the schema, start
#                        everything; fast when all is already up (default)
#   zabbix70.sh start    start the server unless running; wait for its port
#   zabbix70.sh stop     stop the server; wait until its port is closed
#   zabbix70.sh restart  stop, then start
#   zabbix70.sh reload   configuration cache reload (inside the tree)
#   zabbix70.sh status   exit 0 when the server runs
#   zabbix70.sh env      print the MZ_ZABBIX70_* variables
#   zabbix70.sh umount   unmount /proc, /dev and /sys from the tree
#
# Must run as root; services.sh calls "setup" with MariaDB already up.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/zabbix-common.sh
. "$here/zabbix-common.sh"

# The defaults are what the tests expect; MZ_Z70_* override them (to try the
# script on a second tree, say).
Z70_ROOT="${MZ_Z70_ROOT:-$MZ_STATE/zabbix70}"
Z70_SUITE=trixie
Z70_MIRROR="${MZ_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
Z70_SERVER_PORT="${MZ_Z70_SERVER_PORT:-10071}"
Z70_API_LISTEN="${MZ_Z70_API_LISTEN:-127.0.0.1:8081}"
Z70_API_URL="http://$Z70_API_LISTEN/api_jsonrpc.php"
Z70_DB="${MZ_Z70_DB:-zabbix70}"
Z70_DB_USER=zabbix70
Z70_DB_PASSWORD=zabbix70
# Paths inside the tree.
Z70_CONF_IN=/etc/zabbix/zabbix_server_ci.conf
Z70_DIR_IN=/var/lib/zabbix-ci # owned by the tree's user zabbix: log, pid, socket
Z70_PIDFILE_IN="$Z70_DIR_IN/run/zabbix_server.pid"
Z70_CONF="$Z70_ROOT$Z70_CONF_IN"
Z70_DIR="$Z70_ROOT$Z70_DIR_IN"
Z70_PHP_PID="$Z70_ROOT.php.pid"
# Marks a finished debootstrap; without it the tree is half-made and rebuilt.
Z70_BOOTSTRAPPED="$Z70_ROOT/.mz-bootstrap-complete"
Z70_PKGS=(zabbix-server-mysql zabbix-frontend-php zabbix-sender php8.4-cli php8.4-mysql
	php8.4-bcmath php8.4-mbstring php8.4-gd php8.4-xml php8.4-ldap locales ca-certificates)

in_tree() { chroot "$Z70_ROOT" "$@"; }

# ---------------------------------------------------------------- mounts

# mounted_under DIR: prints the mount points at or under DIR, deepest first.
mounted_under() {
	local dir
	dir="$(realpath -m "$1")"
	awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# mount_tree: /proc, /dev and /sys in the tree, each mounted once.
mount_tree() {
	local m
	for m in proc dev sys; do
		install -d "$Z70_ROOT/$m"
		mountpoint -q "$Z70_ROOT/$m" && continue
		case "$m" in
		proc) mount -t proc proc "$Z70_ROOT/proc" ;;
		*) mount --bind "/$m" "$Z70_ROOT/$m" ;;
		esac
	done
}

# umount_tree: everything mounted under the tree, deepest first; fails when
# something stays mounted (never delete a tree with the host's /dev in it).
umount_tree() {
	local m
	[ -d "$Z70_ROOT" ] || return 0
	for m in $(mounted_under "$Z70_ROOT"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	[ -z "$(mounted_under "$Z70_ROOT")" ] || die "still mounted under $Z70_ROOT: $(mounted_under "$Z70_ROOT" | tr '\n' ' ')"
}

# ---------------------------------------------------------------- the tree

bootstrap_tree() {
	if [ -f "$Z70_BOOTSTRAPPED" ] && [ -x "$Z70_ROOT/usr/bin/apt-get" ]; then
		return 0
	fi
	local t
	t=$(now)
	if ! command -v debootstrap >/dev/null; then
		log "Zabbix 7.0: installing debootstrap"
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends debootstrap >"$Z70_ROOT.apt-debootstrap.log" 2>&1 ||
			{ tail -30 "$Z70_ROOT.apt-debootstrap.log" >&2; die "cannot install debootstrap"; }
	fi
	if [ -e "$Z70_ROOT" ]; then
		log "Zabbix 7.0: removing the half-made tree $Z70_ROOT"
		stop_php
		stop_server
		umount_tree
		rm -rf --one-file-system "$Z70_ROOT"
	fi
	log "Zabbix 7.0: debootstrap $Z70_SUITE into $Z70_ROOT"
	debootstrap --variant=minbase "$Z70_SUITE" "$Z70_ROOT" "$Z70_MIRROR" >"$Z70_ROOT.debootstrap.log" 2>&1 ||
		{ tail -30 "$Z70_ROOT.debootstrap.log" >&2; die "debootstrap $Z70_SUITE failed (log: $Z70_ROOT.debootstrap.log)"; }
	# No service starts from package scripts inside the tree.
	printf '#!/bin/sh\nexit 101\n' >"$Z70_ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$Z70_ROOT/usr/sbin/policy-rc.d"
	touch "$Z70_BOOTSTRAPPED"
	log "Zabbix 7.0: tree made in $(elapsed "$t")s"
}

tree_pkgs_missing() {
	local p
	for p in "${Z70_PKGS[@]}"; do
		# shellcheck disable=SC2016 # a dpkg-query format, not a shell expression
		in_tree dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

# guard_tree: Debian's zabbix-proxy-* packages conflict with zabbix-server-mysql,
# so installing one in this tree removes the server. apt in the tree refuses them.
guard_tree() {
	cat >"$Z70_ROOT/etc/apt/preferences.d/moodle-zabbix-ci" <<'PIN'
# Written by moodle-zabbix scripts/zabbix70.sh. This tree holds the Zabbix 7.0
# server of the integration tests. Debian's zabbix-proxy-* packages conflict with
# zabbix-server-mysql: installing one here would remove the server. A 7.0 proxy
# needs a tree of its own.
Package: zabbix-proxy-*
Pin: release *
Pin-Priority: -1
PIN
}

install_tree_pkgs() {
	local missing t
	mapfile -t missing < <(tree_pkgs_missing)
	[ ${#missing[@]} -eq 0 ] && return 0
	t=$(now)
	log "Zabbix 7.0: installing in the tree: ${missing[*]}"
	cp -L /etc/resolv.conf "$Z70_ROOT/etc/resolv.conf" 2>/dev/null || true
	{
		# A killed run may leave dpkg half-configured: finish it first.
		in_tree env DEBIAN_FRONTEND=noninteractive dpkg --configure -a &&
			in_tree apt-get update -qq &&
			in_tree env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
	} >"$Z70_ROOT.apt-install.log" 2>&1 ||
		{ tail -30 "$Z70_ROOT.apt-install.log" >&2; die "package installation in $Z70_ROOT failed"; }
	log "Zabbix 7.0: packages installed in $(elapsed "$t")s"
}

# tree_locale: the frontend needs en_US.UTF-8, or every page and graph says
# "Locale for language en_US is not found". Returns 0 when it was generated now.
tree_locale() {
	in_tree locale -a 2>/dev/null | grep -qix 'en_US.utf8' && return 1
	log "Zabbix 7.0: generating the en_US.UTF-8 locale in the tree"
	sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$Z70_ROOT/etc/locale.gen"
	grep -q '^en_US.UTF-8 UTF-8' "$Z70_ROOT/etc/locale.gen" || echo 'en_US.UTF-8 UTF-8' >>"$Z70_ROOT/etc/locale.gen"
	in_tree locale-gen >/dev/null
	return 0
}

# ---------------------------------------------------------------- database

z70_loaded() {
	[ "$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$Z70_DB' AND table_name IN ('users','hosts','dbversion')")" = 3 ] &&
		[ "$(mysql_root -N "$Z70_DB" -e "SELECT (SELECT COUNT(*) FROM users WHERE username='Admin') + (SELECT COUNT(*) FROM dbversion)")" = 2 ]
}

load_schema() {
	mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS $Z70_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$Z70_DB_USER'@'localhost' IDENTIFIED BY '$Z70_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$Z70_DB_USER'@'127.0.0.1' IDENTIFIED BY '$Z70_DB_PASSWORD';
GRANT ALL PRIVILEGES ON $Z70_DB.* TO '$Z70_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON $Z70_DB.* TO '$Z70_DB_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
	z70_loaded && return 0
	local t sqldir
	t=$(now)
	if [ "$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$Z70_DB'")" != 0 ]; then
		log "Zabbix 7.0 schema: partial, reloading"
		stop_server
		mysql_root -e "DROP DATABASE $Z70_DB; CREATE DATABASE $Z70_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
	fi
	log "Zabbix 7.0 schema: loading"
	sqldir="$Z70_ROOT/usr/share/zabbix-server-mysql"
	{
		echo 'SET GLOBAL log_bin_trust_function_creators = 1;'
		zcat "$sqldir/schema.sql.gz" "$sqldir/images.sql.gz" "$sqldir/data.sql.gz"
	} | mysql_root "$Z70_DB"
	mysql_root -e 'SET GLOBAL log_bin_trust_function_creators = 0;'
	# The stock "Zabbix server" host polls an agent that does not run here.
	mysql_root "$Z70_DB" -e "UPDATE hosts SET status = 1 WHERE host = 'Zabbix server' AND status = 0;"
	z70_loaded || die "Zabbix 7.0 schema did not load"
	log "Zabbix 7.0 schema: loaded in $(elapsed "$t")s"
}

# ---------------------------------------------------------------- configuration

# write_conf70: the server's configuration; sets Z70_CONF_CHANGED=1 when it changed.
write_conf70() {
	local uid gid
	uid="$(in_tree id -u zabbix)"
	gid="$(in_tree id -g zabbix)"
	install -d -m 755 -o "$uid" -g "$gid" "$Z70_DIR" "$Z70_DIR/log" "$Z70_DIR/run"
	cat >"$Z70_CONF.tmp" <<CONF
# Zabbix 7.0 server for the moodle-zabbix integration tests (scripts/zabbix70.sh).
# Paths are inside the tree $Z70_ROOT.
LogType=file
LogFile=$Z70_DIR_IN/log/zabbix_server.log
LogFileSize=16
PidFile=$Z70_PIDFILE_IN
SocketDir=$Z70_DIR_IN/run
DBHost=127.0.0.1
DBPort=3306
DBName=$Z70_DB
DBUser=$Z70_DB_USER
DBPassword=$Z70_DB_PASSWORD
# 7.0 on Debian 13 refuses the host's MariaDB 10.11 without this.
AllowUnsupportedDBVersions=1
ListenIP=127.0.0.1
ListenPort=$Z70_SERVER_PORT
StartTrappers=5
# New hosts/items reach the trapper after the next cache update (1..3600 s).
CacheUpdateFrequency=1
TrapperTimeout=30
Timeout=4
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartAgentPollers=1
StartHTTPAgentPollers=0
StartSNMPPollers=0
CONF
	Z70_CONF_CHANGED=0
	if replace_if_changed "$Z70_CONF.tmp" "$Z70_CONF" 640 "0:$gid"; then Z70_CONF_CHANGED=1; fi

	local www
	www="$(in_tree id -g www-data)"
	frontend_conf_php scripts/zabbix70.sh "$Z70_DB" "$Z70_DB_USER" "$Z70_DB_PASSWORD" \
		"$Z70_SERVER_PORT" moodle-zabbix-ci-70 >"$Z70_ROOT/etc/zabbix/zabbix.conf.php.tmp"
	Z70_FRONTEND_CHANGED=0
	if replace_if_changed "$Z70_ROOT/etc/zabbix/zabbix.conf.php.tmp" "$Z70_ROOT/etc/zabbix/zabbix.conf.php" 640 "0:$www"; then
		Z70_FRONTEND_CHANGED=1
	fi
}

# ---------------------------------------------------------------- server

server_pid() {
	local pid
	[ -s "$Z70_ROOT$Z70_PIDFILE_IN" ] || return 1
	pid="$(cat "$Z70_ROOT$Z70_PIDFILE_IN")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -q zabbix_server "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

server_running() { server_pid >/dev/null && port_open "$Z70_SERVER_PORT"; }

start_server() {
	if server_running; then
		log "Zabbix 7.0 server: running (pid $(server_pid))"
		return 0
	fi
	if server_pid >/dev/null; then
		wait_until 60 "Zabbix 7.0 server port $Z70_SERVER_PORT" port_open "$Z70_SERVER_PORT"
		return 0
	fi
	port_open "$Z70_SERVER_PORT" && die "port $Z70_SERVER_PORT is taken by another process"
	mount_tree
	rm -f "$Z70_ROOT$Z70_PIDFILE_IN"
	log "Zabbix 7.0 server: starting with $Z70_CONF"
	setsid nohup chroot "$Z70_ROOT" /usr/sbin/zabbix_server -f -c "$Z70_CONF_IN" \
		>>"$Z70_DIR/log/console.log" 2>&1 </dev/null 8>&- 9>&- &
	local launcher=$! deadline=$(($(date +%s) + 60))
	until port_open "$Z70_SERVER_PORT"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			tail -20 "$Z70_DIR/log/zabbix_server.log" "$Z70_DIR/log/console.log" >&2 2>/dev/null || true
			die "Zabbix 7.0 server exited during start"
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			tail -20 "$Z70_DIR/log/zabbix_server.log" >&2 2>/dev/null || true
			die "Zabbix 7.0 server not listening on $Z70_SERVER_PORT after 60s"
		fi
		sleep 0.1
	done
	log "Zabbix 7.0 server: listening on 127.0.0.1:$Z70_SERVER_PORT"
}

stop_server() {
	local pid deadline
	if ! pid="$(server_pid)"; then
		return 0
	fi
	log "Zabbix 7.0 server: stopping pid $pid"
	kill -TERM "$pid"
	deadline=$(($(date +%s) + 60))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			kill -KILL -- "-$pid" 2>/dev/null || true
			sleep 1
			break
		fi
		sleep 0.1
	done
	wait_until 30 "port $Z70_SERVER_PORT to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$Z70_SERVER_PORT) 2>/dev/null"
	rm -f "$Z70_ROOT$Z70_PIDFILE_IN"
	log "Zabbix 7.0 server: stopped"
}

reload_server() {
	server_running || die "Zabbix 7.0 server is not running"
	in_tree /usr/sbin/zabbix_server -c "$Z70_CONF_IN" -R config_cache_reload
}

# ---------------------------------------------------------------- frontend

api70_call() {
	curl -sS -m 30 -H 'Content-Type: application/json-rpc' --data-binary "$1" "$Z70_API_URL"
}
api70_ready() { api70_call '{"jsonrpc":"2.0","method":"apiinfo.version","params":[],"id":1}' 2>/dev/null | jq -e '.result' >/dev/null 2>&1; }

stop_php() {
	if [ -s "$Z70_PHP_PID" ] && kill -0 "$(cat "$Z70_PHP_PID")" 2>/dev/null; then
		kill -- "-$(cat "$Z70_PHP_PID")" 2>/dev/null || true
		wait_until 30 "port ${Z70_API_LISTEN##*:} to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/${Z70_API_LISTEN##*:}) 2>/dev/null"
	fi
	rm -f "$Z70_PHP_PID"
}

# start_php [restart]: the frontend and API under php -S inside the tree.
start_php() {
	if [ "${1:-}" = restart ]; then
		stop_php
	elif api70_ready; then
		log "Zabbix 7.0 API: running"
		return 0
	fi
	stop_php
	port_open "${Z70_API_LISTEN##*:}" && die "port ${Z70_API_LISTEN##*:} is taken by another process"
	mount_tree
	log "Zabbix 7.0 API: starting PHP built-in server on $Z70_API_LISTEN"
	PHP_CLI_SERVER_WORKERS=4 setsid nohup chroot "$Z70_ROOT" php \
		-d memory_limit=512M -d post_max_size=16M -d max_execution_time=300 -d date.timezone=UTC \
		-S "$Z70_API_LISTEN" -t /usr/share/zabbix \
		>>"$Z70_DIR/log/php.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$Z70_PHP_PID"
	wait_until 60 "Zabbix 7.0 API" api70_ready
}

# ---------------------------------------------------------------- commands

print_env() {
	cat <<ENV
export MZ_ZABBIX70_SERVER='127.0.0.1:$Z70_SERVER_PORT'
export MZ_ZABBIX70_API='$Z70_API_URL'
export MZ_ZABBIX70_USER='Admin'
export MZ_ZABBIX70_PASSWORD='zabbix'
export MZ_ZABBIX70_ROOT='$Z70_ROOT'
export MZ_ZABBIX70_CONF='$Z70_CONF'
export MZ_ZABBIX70_SENDER='$Z70_ROOT/usr/bin/zabbix_sender'
ENV
}

setup() {
	local t_all locale_new=0
	t_all=$(now)
	mkdir -p "$MZ_STATE"
	bootstrap_tree
	mount_tree
	guard_tree
	install_tree_pkgs
	if tree_locale; then locale_new=1; fi
	load_schema
	write_conf70
	if [ "$Z70_CONF_CHANGED" = 1 ]; then
		stop_server
	fi
	start_server
	if [ "$locale_new" = 1 ] || [ "$Z70_FRONTEND_CHANGED" = 1 ]; then
		start_php restart
	else
		start_php
	fi
	# Login check: the frontend reads its configuration and the database.
	local reply session
	reply="$(api70_call '{"jsonrpc":"2.0","method":"user.login","params":{"username":"Admin","password":"zabbix"},"id":1}')"
	session="$(jq -r '.result // empty' <<<"$reply")"
	[ -n "$session" ] || die "Zabbix 7.0 API login as Admin failed: $(jq -c '.error // .' <<<"$reply")"
	curl -sS -m 30 -H 'Content-Type: application/json-rpc' -H "Authorization: Bearer $session" \
		--data-binary '{"jsonrpc":"2.0","method":"user.logout","params":[],"id":2}' "$Z70_API_URL" >/dev/null
	log "Zabbix 7.0: ready ($(api70_call '{"jsonrpc":"2.0","method":"apiinfo.version","params":[],"id":1}' | jq -r .result)) in $(elapsed "$t_all")s"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "zabbix70.sh: must run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$MZ_STATE"

action="${1:-setup}"
case "$action" in
env)
	print_env
	exit 0
	;;
status)
	server_running
	exit
	;;
esac

# One control action at a time (a separate lock from the 6.0 server's).
exec 9>"$Z70_ROOT.lock"
flock 9

case "$action" in
setup) setup ;;
start)
	[ -f "$Z70_CONF" ] || die "$Z70_CONF missing: run scripts/zabbix70.sh setup first"
	start_server
	;;
stop) stop_server ;;
restart)
	stop_server
	start_server
	;;
reload) reload_server ;;
umount)
	stop_php
	stop_server
	umount_tree
	;;
*)
	echo "usage: $0 setup|start|stop|restart|reload|status|env|umount" >&2
	exit 2
	;;
esac
