package app

import (
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// readsReplica reports whether family f reads from a site's read replica when it has one:
// the daily, weekly and monthly families, whose queries scan days to months of log. The
// instant and hourly families stay on the primary, where the last minutes are certain to be.
func readsReplica(f measures.Family) bool {
	return f != measures.Instant && f != measures.Hourly
}

// openReplica opens the read replica of a site (sites[].replica_dsn), nil when it has none:
// the same site with another database pool.
func openReplica(sc *config.Site, primary *measures.Site) (*measures.Site, error) {
	if !sc.ReplicaDSN.IsSet() {
		return nil, nil
	}
	db, prepared, err := measures.OpenPool(primary.Dialect, sc.ReplicaDSN.Reveal(), sc.StatementTimeout)
	if err != nil {
		return nil, fmt.Errorf("site %s: open the %s read replica (replica_dsn from %s): %s", sc.Name, primary.Dialect, sc.ReplicaDSN.Ref(), redact(err, sc.ReplicaDSN.Reveal()))
	}
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(5 * time.Minute)
	r := *primary
	r.DB = db
	r.SessionsPrepared = prepared
	return &r, nil
}

// siteFor returns the site as family f reads it: its replica for the heavy families.
func (s *siteRuntime) siteFor(f measures.Family) *measures.Site {
	if s.replica != nil && readsReplica(f) {
		return s.replica
	}
	return s.site
}
