//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sender

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock so that two processes never
// write the same spool.
func lockFile(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("spool %s is in use by another process: %w", f.Name(), err)
	}
	return nil
}
