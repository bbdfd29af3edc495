#!/usr/bin/env bash
# A Zabbix 6.0 proxy (SQLite) for the integration tests, beside the server set up by
# scripts/services.sh, which calls it. Idempotent, as root, no systemd.
#   zabbix-proxy.sh          install the package when missing, write the configuration, start
#   zabbix-proxy.sh start    the same
#   zabbix-proxy.sh stop     stop it; wait until the process is gone
#   zabbix-proxy.sh status   exit 0 when it runs and listens
#
# The proxy runs in active mode: it connects to the server on 127.0.0.1:$MZ_SERVER_PORT, fetches
# its configuration every 5 s and sends its data every second. It listens for sender (trapper)
# connections on 127.0.0.1:$MZ_PROXY_PORT. Its name, $MZ_PROXY_NAME, is the proxy the tests
# create through the API; until they do, the server refuses it and it keeps asking.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/zabbix-common.sh
. "$here/zabbix-common.sh"

MZ_PROXY_PORT="${MZ_PROXY_PORT:-10061}"
MZ_PROXY_NAME="${MZ_PROXY_NAME:-moodle-zabbix-ci-proxy}"
MZ_PROXY_CONF="$MZ_STATE/zabbix_proxy.conf"
proxy_dir="$MZ_STATE/zabbix-proxy" # owned by zabbix: database, log, pid, sockets
pidfile="$proxy_dir/zabbix_proxy.pid"

if [ "$(id -u)" -ne 0 ]; then
	echo "zabbix-proxy.sh: must run as root" >&2
	exit 1
fi

# The proxy package is unpacked under $proxy_bin_dir, not installed: Debian's zabbix-proxy-*
# packages conflict with zabbix-server-mysql, so installing one would remove the test server
# (and the zabbix_server binary the tests call). Its libraries are the server's, plus SQLite's.
proxy_bin_dir="$MZ_STATE/zabbix-proxy-bin"
proxy_bin="$proxy_bin_dir/usr/sbin/zabbix_proxy"

install_package() {
	[ -x "$proxy_bin" ] && return 0
	log "unpacking zabbix-proxy-sqlite3 into $proxy_bin_dir"
	local work="$MZ_STATE/zabbix-proxy-deb"
	{
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsqlite3-0 &&
			rm -rf "$work" && mkdir -p "$work" &&
			(cd "$work" && { apt-get download -q zabbix-proxy-sqlite3 || { apt-get update -qq && apt-get download -q zabbix-proxy-sqlite3; }; }) &&
			rm -rf "$proxy_bin_dir.tmp" && dpkg-deb -x "$work"/zabbix-proxy-sqlite3_*.deb "$proxy_bin_dir.tmp" &&
			rm -rf "$proxy_bin_dir" && mv "$proxy_bin_dir.tmp" "$proxy_bin_dir" && rm -rf "$work"
	} >"$MZ_STATE/apt-proxy.log" 2>&1 || {
		tail -30 "$MZ_STATE/apt-proxy.log" >&2
		die "cannot unpack zabbix-proxy-sqlite3"
	}
	if ldd "$proxy_bin" | grep -q 'not found'; then
		ldd "$proxy_bin" | grep 'not found' >&2
		die "the Zabbix proxy lacks libraries"
	fi
}

# write_conf: writes $MZ_PROXY_CONF; sets conf_changed=1 when it changed.
write_conf() {
	install -d -m 755 -o zabbix -g zabbix "$proxy_dir"
	cat >"$MZ_PROXY_CONF.tmp" <<CONF
# Zabbix proxy for the moodle-zabbix integration tests (scripts/zabbix-proxy.sh).
ProxyMode=0
Server=127.0.0.1:$MZ_SERVER_PORT
Hostname=$MZ_PROXY_NAME
ListenIP=127.0.0.1
ListenPort=$MZ_PROXY_PORT
LogType=file
LogFile=$proxy_dir/zabbix_proxy.log
LogFileSize=16
PidFile=$pidfile
SocketDir=$proxy_dir
DBName=$proxy_dir/proxy.db
ConfigFrequency=5
DataSenderFrequency=1
HeartbeatFrequency=5
StartTrappers=3
StartPollers=1
StartPollersUnreachable=1
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartPreprocessors=1
Timeout=4
TrapperTimeout=30
CONF
	conf_changed=0
	if replace_if_changed "$MZ_PROXY_CONF.tmp" "$MZ_PROXY_CONF" 640 root:zabbix; then conf_changed=1; fi
}

proxy_pid() {
	local pid
	[ -s "$pidfile" ] || return 1
	pid="$(cat "$pidfile")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -q zabbix_proxy "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

running() { proxy_pid >/dev/null && port_open "$MZ_PROXY_PORT"; }

start() {
	if running; then
		log "Zabbix proxy: running (pid $(proxy_pid))"
		return 0
	fi
	port_open "$MZ_PROXY_PORT" && die "port $MZ_PROXY_PORT is taken by another process"
	rm -f "$pidfile"
	log "Zabbix proxy: starting with $MZ_PROXY_CONF"
	setsid nohup "$proxy_bin" -f -c "$MZ_PROXY_CONF" >>"$proxy_dir/console.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
	local launcher=$! deadline=$(($(date +%s) + 60))
	until port_open "$MZ_PROXY_PORT"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			tail -20 "$proxy_dir/zabbix_proxy.log" "$proxy_dir/console.log" >&2 2>/dev/null || true
			die "Zabbix proxy exited during start"
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			tail -20 "$proxy_dir/zabbix_proxy.log" >&2 2>/dev/null || true
			die "Zabbix proxy not listening on $MZ_PROXY_PORT after 60s"
		fi
		sleep 0.1
	done
	log "Zabbix proxy: listening on 127.0.0.1:$MZ_PROXY_PORT"
}

stop() {
	local pid deadline
	if ! pid="$(proxy_pid)"; then
		log "Zabbix proxy: not running"
		return 0
	fi
	kill -TERM "$pid"
	deadline=$(($(date +%s) + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$pidfile"
	log "Zabbix proxy: stopped"
}

mkdir -p "$MZ_STATE"
exec 7>"$MZ_STATE/proxy.lock"
flock 7

case "${1:-start}" in
start)
	install_package
	write_conf
	if [ "$conf_changed" = 1 ]; then stop; fi
	start
	;;
stop) stop ;;
status) running ;;
*)
	echo "usage: $0 [start|stop|status]" >&2
	exit 2
	;;
esac
