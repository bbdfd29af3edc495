// Command moodle-zabbix turns a Moodle site's database into Zabbix monitoring: it computes
// aggregate measures, sends them with the Zabbix sender protocol, and generates and installs the
// matching Zabbix templates.
//
// Usage:
//
//	moodle-zabbix demo                                  the whole flow on a built-in synthetic site
//	moodle-zabbix run --family daily [--site S] [--dry-run] [--config FILE]
//	moodle-zabbix daemon [--config FILE]                the built-in scheduler
//	moodle-zabbix templates [--out FILE] [--zabbix-version 6.0]
//	moodle-zabbix install [--dry-run] [--config FILE]   templates, groups and hosts through the API
//	moodle-zabbix check [--site S] [--config FILE]      prove the wiring end to end
//	moodle-zabbix measures [--markdown]                 the catalogue, grouped by family
//	moodle-zabbix version
//
// Exit status: 0 when every value was processed, 2 when some values failed (Zabbix refused
// them, or a measure could not be computed), 1 when the command could not run or deliver.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // site time zones load even where the system has no zoneinfo

	"github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
