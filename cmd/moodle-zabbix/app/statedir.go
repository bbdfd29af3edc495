package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
)

// PrepareStateDir creates the state directory (the spool, the run state and the delivery
// ledger live there) when it is missing and proves it writable, so a service user that cannot
// write it learns so in one line naming the path and the fix, before anything is computed.
func (rt *Runtime) PrepareStateDir() error {
	dir := rt.cfg.Zabbix.Spool.Dir
	fail := func(err error) error {
		return fmt.Errorf("state directory %s: %v; create it for the user that runs moodle-zabbix "+
			"(install -d -o moodle-zabbix -g moodle-zabbix -m 0750 %s) or set zabbix.spool.dir in %s", dir, err, dir, rt.cfg.File())
	}
	if err := os.MkdirAll(rt.stateDir, 0o700); err != nil {
		return fail(err)
	}
	probe, err := os.CreateTemp(rt.stateDir, ".probe-*")
	if err != nil {
		return fail(err)
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fail(err)
	}
	return nil
}

// StateDir returns the directory holding the run state and the delivery ledger.
func (rt *Runtime) StateDir() string { return filepath.Clean(rt.stateDir) }

// checkStateDir is the state directory step of `check`: one line, ok or FAIL with the fix.
func checkStateDir(env *cliEnv, cfg *config.Config) bool {
	if cfg.Zabbix.SenderFile() != "" {
		return true
	}
	rt := &Runtime{cfg: cfg, stateDir: filepath.Join(cfg.Zabbix.Spool.Dir, "state")}
	if err := rt.PrepareStateDir(); err != nil {
		fmt.Fprintf(env.stdout, "FAIL %v\n", err)
		return false
	}
	fmt.Fprintf(env.stdout, "ok   state directory: %s (writable)\n", cfg.Zabbix.Spool.Dir)
	return true
}
