package catalogue_test

import (
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
)

// storageBytes adds up the sizes of the file records that keep accepts.
func storageBytes(x *X, keep func(f fixture.File) bool) int64 {
	var n int64
	for _, f := range x.M.Files {
		if keep(f) {
			n += f.FileSize
		}
	}
	return n
}

func init() {
	sizes := map[string]func(f fixture.File) bool{
		"draftareassize":  func(f fixture.File) bool { return f.FileArea == "draft" },
		"storedareassize": func(f fixture.File) bool { return f.FileArea != "draft" },
		"storeddocumentssize": func(f fixture.File) bool {
			return f.FileArea != "draft" && strings.HasPrefix(f.MimeType, "application")
		},
		"storedvideosize": func(f fixture.File) bool {
			return f.FileArea != "draft" && strings.HasPrefix(f.MimeType, "video")
		},
		"storedbackupsize": func(f fixture.File) bool {
			return f.Component == "backup" || f.Component == "user" && f.FileArea == "backup"
		},
		"storeduserbackupsize": func(f fixture.File) bool { return f.Component == "user" && f.FileArea == "backup" },
		"storedactivitybackupsize": func(f fixture.File) bool {
			return f.Component == "backup" && f.FileArea == "activity"
		},
		"storedcoursebackupsize": func(f fixture.File) bool { return f.Component == "backup" && f.FileArea == "course" },
		"storedautomatedbackupsize": func(f fixture.File) bool {
			return f.Component == "backup" && f.FileArea == "automated"
		},
	}
	for name, keep := range sizes {
		expect("moodle.storage."+name, func(x *X) any { return storageBytes(x, keep) })
	}

	// The database's size depends on the engine's storage: it is at least a few pages and far
	// below a terabyte for the tiny fixture.
	expect("moodle.storage.dbsize", func(x *X) any { return Between{Min: 4096, Max: 1 << 40} })

	// The log's row count is an estimate from the engine's statistics: within a generous
	// tolerance of the real count.
	expect("moodle.storage.logsize", func(x *X) any {
		n := float64(len(x.M.Logs))
		return Between{Min: 0.5 * n, Max: 1.5*n + 100}
	})

	expect("moodle.storage.oldestlog", func(x *X) any {
		var oldest int64
		for i, l := range x.M.Logs {
			if i == 0 || l.TimeCreated < oldest {
				oldest = l.TimeCreated
			}
		}
		return oldest
	})
}
