package ztest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

type lockMode int

const (
	lockNone lockMode = iota
	lockShared
	lockExclusive
)

// serverLock lets many tests use the Zabbix server at once, across test
// processes (go test runs packages in parallel), while a test that stops
// the server has it alone. Inside the process a reader/writer count guards
// it; between processes an flock on one file, shared or exclusive.
var serverLock = newFileRWLock(filepath.Join(os.TempDir(), "moodle-zabbix-ztest-server.lock"))

type fileRWLock struct {
	path    string
	mu      sync.Mutex
	cond    *sync.Cond
	readers int
	writer  bool
	f       *os.File
}

func newFileRWLock(path string) *fileRWLock {
	l := &fileRWLock{path: path}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// flock applies how (syscall.LOCK_SH, LOCK_EX or LOCK_UN) to the file.
func (l *fileRWLock) flock(how int) error {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return fmt.Errorf("server lock: %w", err)
		}
		l.f = f
	}
	for {
		err := syscall.Flock(int(l.f.Fd()), how)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("server lock %s: %w", l.path, err)
		}
		return nil
	}
}

// rlock takes a shared hold. Readers do not wait for a waiting writer, so
// nested holds cannot deadlock among themselves.
func (l *fileRWLock) rlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writer {
		l.cond.Wait()
	}
	if l.readers == 0 {
		if err := l.flock(syscall.LOCK_SH); err != nil {
			return err
		}
	}
	l.readers++
	return nil
}

func (l *fileRWLock) runlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readers--
	if l.readers == 0 {
		_ = l.flock(syscall.LOCK_UN)
	}
	l.cond.Broadcast()
}

// lock takes the exclusive hold once no reader or writer is left.
func (l *fileRWLock) lock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writer || l.readers > 0 {
		l.cond.Wait()
	}
	if err := l.flock(syscall.LOCK_EX); err != nil {
		return err
	}
	l.writer = true
	return nil
}

func (l *fileRWLock) unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.flock(syscall.LOCK_UN)
	l.writer = false
	l.cond.Broadcast()
}
