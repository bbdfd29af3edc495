package app

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/templates"
)

func cmdTemplates(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "templates")
	out := fs.String("out", "-", "file to write the YAML export to (- for standard output)")
	version := fs.String("zabbix-version", "6.0", "export format: "+strings.Join(templates.Versions, ", "))
	only := fs.String("template", "", "comma-separated template names to export (default: all, fleet included)")
	group := fs.String("fleet-group", "", "default host group of Moodle sites aggregated by the fleet template (default \"Moodle sites\")")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	opts := templates.Options{ZabbixVersion: *version, FleetGroup: *group}
	if *only != "" {
		for _, n := range strings.Split(*only, ",") {
			opts.Templates = append(opts.Templates, strings.TrimSpace(n))
		}
	}
	exp, err := templates.Build(catalogue.Registry(), opts)
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
