# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file
# Shared settings and helpers for services.sh and zabbix-server.sh.
# Sourced, never run. Everything the CI Zabbix needs lives under $MZ_STATE.

MZ_STATE="${MZ_STATE:-/var/lib/moodle-zabbix-ci}"
MZ_CONF="$MZ_STATE/zabbix_server.conf"
MZ_ZBX_DIR="$MZ_STATE/zabbix"          # owned by user zabbix: log, pid, socket
MZ_SERVER_PORT=10051
MZ_API_LISTEN=127.0.0.1:8080
MZ_API_URL="http://$MZ_API_LISTEN/api_jsonrpc.php"
MZ_MYSQL_USER=moodle_ci
MZ_MYSQL_PASSWORD=moodle_ci
MZ_ZBX_DB_USER=zabbix
MZ_ZBX_DB_PASSWORD=zabbix
MZ_FRONTEND_CONF=/etc/zabbix/zabbix.conf.php

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
log() { echo "[$(date +%T)] $*"; }
die() {
	echo "ERROR: $*" >&2
	exit 1
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
	local limit="$1" what="$2" deadline
	shift 2
	deadline=$(($(date +%s) + limit))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			die "$what not ready after ${limit}s"
		fi
		sleep 0.2
	done
}

mysql_root() { mysql --protocol=socket -uroot "$@"; }
mysql_ping() { command -v mysqladmin >/dev/null && mysqladmin --protocol=socket -uroot ping >/dev/null 2>&1; }
pg_ping() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

api_call() {
	curl -sS -m 30 -H 'Content-Type: application/json-rpc' --data-binary "$1" "$MZ_API_URL"
}
api_ready() { api_call '{"jsonrpc":"2.0","method":"apiinfo.version","params":[],"id":1}' 2>/dev/null | jq -e '.result' >/dev/null 2>&1; }

# replace_if_changed TMP DEST MODE OWNER: moves TMP over DEST unless equal.
# Returns 0 when DEST changed.
replace_if_changed() {
	local tmp="$1" dest="$2" mode="$3" owner="$4"
	chmod "$mode" "$tmp"
	chown "$owner" "$tmp"
	if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
		rm -f "$tmp"
		return 1
	fi
	mv "$tmp" "$dest"
	return 0
}

# write_server_conf: writes $MZ_CONF; sets MZ_CONF_CHANGED=1 when it changed.
write_server_conf() {
	install -d -m 755 "$MZ_STATE"
	install -d -m 755 -o zabbix -g zabbix "$MZ_ZBX_DIR" "$MZ_ZBX_DIR/log" "$MZ_ZBX_DIR/run"
	cat >"$MZ_CONF.tmp" <<CONF
# Zabbix server for the moodle-zabbix integration tests (scripts/services.sh).
LogType=file
LogFile=$MZ_ZBX_DIR/log/zabbix_server.log
LogFileSize=16
PidFile=$MZ_ZBX_DIR/run/zabbix_server.pid
SocketDir=$MZ_ZBX_DIR/run
DBHost=localhost
DBSocket=/run/mysqld/mysqld.sock
DBName=zabbix
DBUser=$MZ_ZBX_DB_USER
DBPassword=$MZ_ZBX_DB_PASSWORD
# 6.0.14 refuses MariaDB 10.11 without this.
AllowUnsupportedDBVersions=1
ListenIP=127.0.0.1
ListenPort=$MZ_SERVER_PORT
StartTrappers=5
# New hosts/items reach the trapper after the next cache update (1..3600 s).
CacheUpdateFrequency=1
TrapperTimeout=30
Timeout=4
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
CONF
	MZ_CONF_CHANGED=0
	if replace_if_changed "$MZ_CONF.tmp" "$MZ_CONF" 640 root:zabbix; then MZ_CONF_CHANGED=1; fi
}

# frontend_conf_php WRITER DATABASE USER PASSWORD SERVER_PORT SERVER_NAME: prints the
# frontend's zabbix.conf.php for a server whose database is on the host's MariaDB. The keys are
# those of 7.0; 6.0 ignores the vault keys it does not know.
frontend_conf_php() {
	cat <<PHP
<?php
// Written by moodle-zabbix $1.
\$DB['TYPE']            = 'MYSQL';
\$DB['SERVER']          = '127.0.0.1';
\$DB['PORT']            = '3306';
\$DB['DATABASE']        = '$2';
\$DB['USER']            = '$3';
\$DB['PASSWORD']        = '$4';
\$DB['SCHEMA']          = '';
\$DB['ENCRYPTION']      = false;
\$DB['KEY_FILE']        = '';
\$DB['CERT_FILE']       = '';
\$DB['CA_FILE']         = '';
\$DB['VERIFY_HOST']     = false;
\$DB['CIPHER_LIST']     = '';
\$DB['VAULT']           = '';
\$DB['VAULT_URL']       = '';
\$DB['VAULT_PREFIX']    = '';
\$DB['VAULT_DB_PATH']   = '';
\$DB['VAULT_TOKEN']     = '';
\$DB['VAULT_CERT_FILE'] = '';
\$DB['VAULT_KEY_FILE']  = '';
\$DB['DOUBLE_IEEE754']  = true;

\$ZBX_SERVER      = '127.0.0.1';
\$ZBX_SERVER_PORT = '$5';
\$ZBX_SERVER_NAME = '$6';

\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
PHP
}

# write_frontend_conf: the Debian build of the frontend reads this file.
write_frontend_conf() {
	install -d -m 755 /etc/zabbix
	frontend_conf_php scripts/services.sh zabbix "$MZ_ZBX_DB_USER" "$MZ_ZBX_DB_PASSWORD" \
		"$MZ_SERVER_PORT" moodle-zabbix-ci >"$MZ_FRONTEND_CONF.tmp"
	replace_if_changed "$MZ_FRONTEND_CONF.tmp" "$MZ_FRONTEND_CONF" 640 root:www-data || true
}
