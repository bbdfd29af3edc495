package catalogue_test

import (
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// previousRun is the self-monitoring record the test sites report for family f: distinct,
// non-zero numbers per family so a value read from the wrong family shows.
func previousRun(f measures.Family) *measures.RunRecord {
	n := int(f)
	return &measures.RunRecord{
		Finished:       fixtureNow.Add(-time.Duration(n) * time.Minute),
		LastSuccess:    fixtureNow.Add(-time.Duration(n) * time.Hour),
		Duration:       1.25 * float64(n),
		MeasuresFailed: 3 * n,
		Sent:           100 * n, Processed: 100*n - n, Failed: n, Spooled: 2 * n,
		SpoolDepth: 7 * n, SpoolDropped: 11 * n,
	}
}

func init() {
	for _, f := range measures.Families {
		r := previousRun(f)
		fam := f.String()
		key := func(name string) string { return fmt.Sprintf("moodle.self.%s[%s]", name, fam) }
		expect(key("lastsuccess"), func(*X) any { return r.LastSuccess.Unix() })
		expect(key("duration"), func(*X) any { return r.Duration })
		expect(key("measuresfailed"), func(*X) any { return int64(r.MeasuresFailed) })
		expect(key("sent"), func(*X) any { return int64(r.Sent) })
		expect(key("processed"), func(*X) any { return int64(r.Processed) })
		expect(key("failed"), func(*X) any { return int64(r.Failed) })
		expect(key("spooled"), func(*X) any { return int64(r.Spooled) })
	}
	inst := previousRun(measures.Instant)
	expect("moodle.self.spool.depth", func(*X) any { return int64(inst.SpoolDepth) })
	expect("moodle.self.spool.dropped", func(*X) any { return int64(inst.SpoolDropped) })
}
