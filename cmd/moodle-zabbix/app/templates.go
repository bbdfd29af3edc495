package app

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

func cmdTemplates(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "templates")
	out := fs.String("out", "-", "file to write the YAML export to (- for standard output)")
	version := fs.String("zabbix-version", "6.0", "export format: "+strings.Join(templates.Versions, ", "))
	only := fs.String("template", "", "comma-separated template names to export (default: all, fleet included)")
	group := fs.String("fleet-group", "", "default host group of Moodle sites aggregated by the fleet template (default \"Moodle sites\")")
	cfgPath := fs.String("config", os.Getenv("MOODLE_ZABBIX_CONFIG"), "configuration whose custom measures get their templates too (default $MOODLE_ZABBIX_CONFIG; none: the built-in catalogue)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	reg, err := listingCatalogue(*cfgPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix templates: %v\n", err)
		return ExitFailure
	}
	opts := templates.Options{ZabbixVersion: *version, FleetGroup: *group}
	if *only != "" {
		for _, n := range strings.Split(*only, ",") {
			opts.Templates = append(opts.Templates, strings.TrimSpace(n))
		}
	}
	exp, err := templates.Build(reg, opts)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix templates: %v\n", err)
		return ExitFailure
	}
	data, err := exp.YAML()
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix templates: %v\n", err)
		return ExitFailure
	}
	if *out == "-" {
		_, err = env.stdout.Write(data)
	} else {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix templates: write %s: %v\n", *out, err)
		return ExitFailure
	}
	if *out != "-" {
		fmt.Fprintf(env.stderr, "wrote %s (Zabbix %s format, %d bytes)\n", *out, *version, len(data))
	}
	return ExitOK
}
