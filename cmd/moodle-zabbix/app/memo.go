package app

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// memoFile is a site's measures.Memo: what incremental queries counted, kept in memory for the
// daemon and in a file of the state directory for the next one-shot run. The file is a cache:
// it is replaced whole (written aside, then renamed) but not synced, since a memo that is lost
// or unreadable only makes the next burst count everything again.
type memoFile struct {
	path string
	log  *slog.Logger

	mu     sync.Mutex
	loaded bool
	data   map[string]json.RawMessage
	warned bool // one warning per process when the file cannot be written
}

// Load returns what was stored under name, reading the file on first use.
func (m *memoFile) Load(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loadLocked()
	return m.data[name]
}

// Store keeps data under name and writes the file.
func (m *memoFile) Store(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loadLocked()
	m.data[name] = append(json.RawMessage(nil), data...)
	if err := m.writeLocked(); err != nil && !m.warned {
		m.warned = true
		m.log.Warn("cannot keep the counts of incremental measures; each run counts them in full", "file", m.path, "err", err)
	}
}

func (m *memoFile) loadLocked() {
	if m.loaded {
		return
	}
	m.loaded = true
	m.data = map[string]json.RawMessage{}
	raw, err := os.ReadFile(m.path)
	if err != nil {
		return
	}
	if err := json.Unmarshal(raw, &m.data); err != nil {
		m.data = map[string]json.RawMessage{}
	}
}

func (m *memoFile) writeLocked() error {
	raw, err := json.Marshal(m.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return err
	}
	return replaceFile(m.path, raw, false)
}
