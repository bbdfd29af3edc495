#!/usr/bin/env bash
# Photographs the template dashboards (a site's and the fleet's) on the test Zabbix 6.0 and
# 7.0 for docs/templates.md: fills each server with two synthetic Moodle sites and a fleet
# (internal/tools/screenshots), then captures the dashboards with Debian's headless Chromium.
#
#   sudo bash scripts/screenshots.sh          # services (scripts/services.sh) + both versions
#   sudo bash scripts/screenshots.sh 7.0      # one version
#
# Writes docs/img/zabbix60-host.png, zabbix60-fleet.png, zabbix70-host.png, zabbix70-fleet.png.
# Rerunnable: each run replaces the hosts, their databases and the pictures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

if [ "$(id -u)" -ne 0 ]; then
	echo "screenshots.sh: must run as root (services, chroot)" >&2
	exit 1
fi
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(6.0 7.0)

if ! command -v chromium >/dev/null; then
	echo "screenshots.sh: installing chromium"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

bash "$here/services.sh" >/dev/null
# shellcheck source=/dev/null
. .ci/services.env

for v in "${versions[@]}"; do
	case "$v" in
	6.0)
		args=(-api "$MZ_ZABBIX_API" -server "$MZ_ZABBIX_SERVER" -user "$MZ_ZABBIX_USER"
			-reload "/usr/sbin/zabbix_server -c $MZ_ZABBIX_CONF -R config_cache_reload" -prefix zabbix60)
		export MZ_SCREENSHOT_PASSWORD="$MZ_ZABBIX_PASSWORD"
		;;
	7.0)
		conf_in="${MZ_ZABBIX70_CONF#"$MZ_ZABBIX70_ROOT"}"
		args=(-api "$MZ_ZABBIX70_API" -server "$MZ_ZABBIX70_SERVER" -user "$MZ_ZABBIX70_USER"
			-reload "chroot $MZ_ZABBIX70_ROOT /usr/sbin/zabbix_server -c $conf_in -R config_cache_reload" -prefix zabbix70)
		export MZ_SCREENSHOT_PASSWORD="$MZ_ZABBIX70_PASSWORD"
		;;
	*)
		echo "screenshots.sh: unknown version $v (6.0 or 7.0)" >&2
		exit 2
		;;
	esac
	echo "=== Zabbix $v"
	go run ./internal/tools/screenshots "${args[@]}" -out docs/img
done
