#!/usr/bin/env bash
# A Zabbix 7.0 proxy (SQLite) in the Debian 13 tree that runs the 7.0 test server, for the
# proxy-group redirect test. Called by scripts/services.sh after the 7.0 server is set up;
# does nothing (exit 0) when there is no 7.0 tree. Idempotent, as root.
#   zabbix70-proxy.sh [start]   install the package in the tree when missing, write the
#                               configuration, start the proxy unless it runs
#   zabbix70-proxy.sh stop      stop it
#
# Active mode: it connects to the 7.0 server on 127.0.0.1:$MZ_ZABBIX70_PORT and listens on
# 127.0.0.1:$MZ_PROXY70_PORT. Its name, $MZ_PROXY70_NAME, is the proxy the tests create (in a
# proxy group, with that local address) through the 7.0 API.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/zabbix-common.sh
. "$here/zabbix-common.sh"

tree="${MZ_ZABBIX70_ROOT:-$MZ_STATE/zabbix70}"
MZ_ZABBIX70_PORT="${MZ_ZABBIX70_PORT:-10071}"
MZ_PROXY70_PORT="${MZ_PROXY70_PORT:-10072}"
MZ_PROXY70_NAME="${MZ_PROXY70_NAME:-moodle-zabbix-ci-proxy70}"
conf=/etc/zabbix/zabbix_proxy_ci.conf # inside the tree
dir=/var/lib/zabbix-ci/proxy          # inside the tree, owned by the tree's zabbix user
pidfile="$tree$dir/zabbix_proxy.pid"

if [ ! -x "$tree/usr/sbin/zabbix_server" ]; then
	log "Zabbix 7.0 proxy: no 7.0 tree at $tree, skipped"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "zabbix70-proxy.sh: must run as root"

# The proxy package is unpacked under $bindir, not installed: Debian's zabbix-proxy-* packages
# conflict with zabbix-server-mysql, so installing one would remove the tree's 7.0 server (the
# tree's apt refuses them, see zabbix70.sh). Its libraries are the server's, plus SQLite's.
bindir=/opt/zabbix-proxy70 # inside the tree
proxy_bin="$bindir/usr/sbin/zabbix_proxy"

install_package() {
	[ -x "$tree$proxy_bin" ] && return 0
	log "unpacking zabbix-proxy-sqlite3 into $tree$bindir"
	{
		chroot "$tree" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsqlite3-0 &&
			rm -rf "$tree/tmp/proxy70-deb" && mkdir -p "$tree/tmp/proxy70-deb" &&
			chroot "$tree" sh -c 'cd /tmp/proxy70-deb && apt-get download -q -o Dir::Etc::PreferencesParts=/tmp/proxy70-deb zabbix-proxy-sqlite3' &&
			rm -rf "${tree:?}$bindir.tmp" && mkdir -p "$tree$bindir.tmp" &&
			chroot "$tree" sh -c "dpkg-deb -x /tmp/proxy70-deb/zabbix-proxy-sqlite3_*.deb $bindir.tmp" &&
			rm -rf "${tree:?}$bindir" && mv "$tree$bindir.tmp" "$tree$bindir" && rm -rf "$tree/tmp/proxy70-deb"
	} >"$MZ_STATE/apt-proxy70.log" 2>&1 || {
		tail -30 "$MZ_STATE/apt-proxy70.log" >&2
		die "cannot unpack zabbix-proxy-sqlite3 into the 7.0 tree"
	}
	if chroot "$tree" ldd "$proxy_bin" | grep -q 'not found'; then
		chroot "$tree" ldd "$proxy_bin" | grep 'not found' >&2
		die "the 7.0 proxy lacks libraries in the tree"
	fi
}

write_conf() {
	chroot "$tree" install -d -m 755 -o zabbix -g zabbix "$dir"
	cat >"$tree$conf.tmp" <<CONF
# Zabbix 7.0 proxy for the moodle-zabbix integration tests (scripts/zabbix70-proxy.sh).
ProxyMode=0
Server=127.0.0.1:$MZ_ZABBIX70_PORT
Hostname=$MZ_PROXY70_NAME
ListenIP=127.0.0.1
ListenPort=$MZ_PROXY70_PORT
LogType=file
LogFile=$dir/zabbix_proxy.log
LogFileSize=16
PidFile=$dir/zabbix_proxy.pid
SocketDir=$dir
DBName=$dir/proxy.db
ProxyConfigFrequency=5
DataSenderFrequency=1
StartTrappers=3
StartPollers=1
StartAgentPollers=0
StartHTTPAgentPollers=0
StartSNMPPollers=0
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartPreprocessors=1
Timeout=4
TrapperTimeout=30
CONF
	changed=0
	if replace_if_changed "$tree$conf.tmp" "$tree$conf" 644 root:root; then changed=1; fi
}

proxy_pid() {
	local pid
	[ -s "$pidfile" ] || return 1
	pid="$(cat "$pidfile")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -q zabbix_proxy "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

stop() {
	local pid
	pid="$(proxy_pid)" || return 0
	kill -TERM "$pid"
	for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidfile"
	log "Zabbix 7.0 proxy: stopped"
}

start() {
	if proxy_pid >/dev/null && port_open "$MZ_PROXY70_PORT"; then
		log "Zabbix 7.0 proxy: running"
		return 0
	fi
	port_open "$MZ_PROXY70_PORT" && die "port $MZ_PROXY70_PORT is taken by another process"
	setsid nohup chroot "$tree" "$proxy_bin" -f -c "$conf" >>"$MZ_STATE/proxy70-console.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
	local launcher=$! deadline=$(($(date +%s) + 60))
	until port_open "$MZ_PROXY70_PORT"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			tail -20 "$tree$dir/zabbix_proxy.log" "$MZ_STATE/proxy70-console.log" >&2 2>/dev/null || true
			die "Zabbix 7.0 proxy exited during start"
		fi
		[ "$(date +%s)" -lt "$deadline" ] || die "Zabbix 7.0 proxy not listening on $MZ_PROXY70_PORT after 60s"
		sleep 0.1
	done
	log "Zabbix 7.0 proxy: listening on 127.0.0.1:$MZ_PROXY70_PORT"
}

exec 7>"$MZ_STATE/proxy70.lock"
flock 7
case "${1:-start}" in
start)
	install_package
	write_conf
	if [ "$changed" = 1 ]; then stop; fi
	start
	;;
stop) stop ;;
*)
	echo "usage: $0 [start|stop]" >&2
	exit 2
	;;
esac
