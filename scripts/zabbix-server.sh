#!/usr/bin/env bash
# Controls the test Zabbix server set up by scripts/services.sh.
#   zabbix-server.sh start    start unless running; wait until the trapper port accepts
#   zabbix-server.sh stop     stop cleanly; wait until the process is gone and the port closed
#   zabbix-server.sh restart  stop, then start
#   zabbix-server.sh reload   ask for a configuration cache reload (asynchronous in the server)
#   zabbix-server.sh status   exit 0 when running
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/zabbix-common.sh
. "$here/zabbix-common.sh"

pidfile="$MZ_ZBX_DIR/run/zabbix_server.pid"
console="$MZ_ZBX_DIR/log/console.log"

[ -f "$MZ_CONF" ] || die "$MZ_CONF missing: run scripts/services.sh first"

# server_pid: prints the pid of the running server main process, if any.
server_pid() {
	local pid
	[ -s "$pidfile" ] || return 1
	pid="$(cat "$pidfile")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -q zabbix_server "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

running() { server_pid >/dev/null && port_open "$MZ_SERVER_PORT"; }

start() {
	if running; then
		log "Zabbix server: running (pid $(server_pid))"
		return 0
	fi
	if pid="$(server_pid)"; then
		# Started but not listening yet (or hung): give it time, then fail.
		wait_until 60 "Zabbix server port $MZ_SERVER_PORT" port_open "$MZ_SERVER_PORT"
		return 0
	fi
	port_open "$MZ_SERVER_PORT" && die "port $MZ_SERVER_PORT is taken by another process"
	install -d -m 755 -o zabbix -g zabbix "$MZ_ZBX_DIR" "$MZ_ZBX_DIR/log" "$MZ_ZBX_DIR/run"
	rm -f "$pidfile"
	log "Zabbix server: starting with $MZ_CONF"
	# -f keeps it from forking again; setsid + nohup detach it from this shell.
	setsid nohup /usr/sbin/zabbix_server -f -c "$MZ_CONF" >>"$console" 2>&1 </dev/null 8>&- 9>&- &
	local launcher=$! deadline=$(($(date +%s) + 60))
	until port_open "$MZ_SERVER_PORT"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			tail -20 "$MZ_ZBX_DIR/log/zabbix_server.log" "$console" >&2 2>/dev/null || true
			die "Zabbix server exited during start"
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			tail -20 "$MZ_ZBX_DIR/log/zabbix_server.log" >&2 2>/dev/null || true
			die "Zabbix server not listening on $MZ_SERVER_PORT after 60s"
		fi
		sleep 0.1
	done
	log "Zabbix server: listening on 127.0.0.1:$MZ_SERVER_PORT (pid $(server_pid || echo "$launcher"))"
}

stop() {
	local pid deadline
	if ! pid="$(server_pid)"; then
		log "Zabbix server: not running"
		return 0
	fi
	log "Zabbix server: stopping pid $pid"
	kill -TERM "$pid"
	deadline=$(($(date +%s) + 60))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "Zabbix server: still running after 60s, killing"
			kill -KILL "$pid" 2>/dev/null || true
			kill -KILL -- "-$pid" 2>/dev/null || true # its process group (setsid)
			sleep 1
			break
		fi
		sleep 0.1
	done
	wait_until 30 "port $MZ_SERVER_PORT to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$MZ_SERVER_PORT) 2>/dev/null"
	rm -f "$pidfile"
	log "Zabbix server: stopped"
}

reload() {
	running || die "Zabbix server is not running"
	/usr/sbin/zabbix_server -c "$MZ_CONF" -R config_cache_reload
}

# One control action at a time.
exec 9>"$MZ_STATE/server.lock"
flock 9

case "${1:-}" in
start) start ;;
stop) stop ;;
restart)
	stop
	start
	;;
reload) reload ;;
status) running ;;
*)
	echo "usage: $0 start|stop|restart|reload|status" >&2
	exit 2
	;;
esac
