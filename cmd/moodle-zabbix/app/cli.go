package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/catalogue"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// Version and Commit identify the build; `make build` sets them with
// -ldflags "-X .../app.Version=... -X .../app.Commit=...".
var (
	Version = "dev"
	Commit  = ""
)

// Exit statuses, as zabbix_sender's.
const (
	ExitOK       = 0
	ExitFailure  = 1 // could not run or deliver
	ExitSomeFail = 2 // some values failed
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv is what every subcommand gets.
type cliEnv struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	shard          string // --shard of run and daemon
}

func commands() []command {
	return []command{
		{"run", "run one family once for the configured sites and send the values", cmdRun},
		{"daemon", "run every family on its schedule for the configured sites", cmdDaemon},
		{"templates", "write the Zabbix templates generated from the catalogue", cmdTemplates},
		{"install", "import the templates and create the groups and hosts through the Zabbix API", cmdInstall},
		{"check", "check the database, the trapper and the Zabbix host end to end", cmdCheck},
		{"audit", "print every key and value a run would send, and what the privacy threshold kept back", cmdAudit},
		{"measures", "list the catalogue grouped by family", cmdMeasures},
		{"demo", "run the whole flow on a built-in synthetic Moodle, with nothing installed", cmdDemo},
		{"version", "print the version", cmdVersion},
	}
}

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cliEnv{stdout: stdout, stderr: stderr,
		logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitFailure
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(stderr, "moodle-zabbix: unknown command %q\n", args[0])
	usage(stderr)
	return ExitFailure
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("MOODLE_ZABBIX_LOG"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: moodle-zabbix <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n'moodle-zabbix <command> -h' shows a command's flags.")
}

// newFlags returns a flag set that reports errors on stderr instead of exiting.
func newFlags(env *cliEnv, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("moodle-zabbix "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

// parse parses flags; it returns an exit status and false when the command must stop.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitFailure, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return ExitFailure, false
	}
	return 0, true
}

func cmdVersion(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "version")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fmt.Fprintln(env.stdout, versionLine())
	return ExitOK
}

func cmdDemo(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "demo")
	family := fs.String("family", "", "run only this family (instant, hourly, daily, weekly, monthly)")
	tz := fs.String("timezone", "UTC", "the demo site's time zone")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	opts := DemoOptions{Registry: catalogue.Registry(), Logger: env.logger}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix demo: --timezone %q: %v\n", *tz, err)
		return ExitFailure
	}
	opts.Location = loc
	if *family != "" {
		f, err := measures.ParseFamily(*family)
		if err != nil {
			fmt.Fprintf(env.stderr, "moodle-zabbix demo: --family: %v\n", err)
			return ExitFailure
		}
		opts.Families = []measures.Family{f}
	}
	if err := Demo(ctx, env.stdout, opts); err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix demo: %v\n", err)
		return ExitSomeFail
	}
	return ExitOK
}

func cmdMeasures(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlags(env, "measures")
	markdown := fs.Bool("markdown", false, "print docs/measures.md instead of the plain list")
	cfgPath := fs.String("config", os.Getenv("MOODLE_ZABBIX_CONFIG"), "configuration whose custom measures are listed too (default $MOODLE_ZABBIX_CONFIG; none: the built-in catalogue)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	reg, err := listingCatalogue(*cfgPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "moodle-zabbix measures: %v\n", err)
		return ExitFailure
	}
	if *markdown {
		fmt.Fprint(env.stdout, MeasuresMarkdown(reg))
		return ExitOK
	}
	fmt.Fprint(env.stdout, MeasuresList(reg))
	return ExitOK
}

// lines joins lines with newlines, ending with one.
func lines(ls []string) string {
	return strings.Join(ls, "\n") + "\n"
}

// versionLine is what `version` prints: the stamped version and commit, or what the Go build
// recorded (module version, VCS revision) when the binary was built without make.
func versionLine() string {
	v, c := Version, Commit
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" && len(s.Value) >= 12 {
				c = s.Value[:12]
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("moodle-zabbix %s (commit %s, %s)", v, c, goVersion)
}
