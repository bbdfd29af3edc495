package catalogue_test

import (
	"fmt"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// X is what an expectation sees: the generated site and the parameters of the run.
type X struct {
	M *fixture.Model
	P measures.Params
	// From and To are the window bounds as Unix times ([From, To)).
	From, To int64
	// Now is the run time as a Unix time.
	Now int64
}

// Skipped is returned by an expectation when the measure must be skipped (plugin absent).
type Skipped struct{}

// Between is returned by an expectation whose value cannot be computed from the model alone (the
// database's size on disk, a row-count estimate): the value sent must lie in [Min, Max].
type Between struct{ Min, Max float64 }

// PerEntity is what a prototype's expectation returns: entity id (the rule's ID macro value) to
// expected value. Every discovered entity must be listed, with 0 where it has no rows.
type PerEntity map[string]any

// LLD is what a discovery rule's expectation returns: the discovered objects, in order.
type LLD []map[string]string

// expectations holds one independent computation per measure or discovery key. Each domain's
// file registers its own in init; the drivers fail on any registered measure that has none.
var expectations = map[string]func(x *X) any{}

// expect registers the independent Go computation of key's value from the fixture model.
func expect(key string, f func(x *X) any) {
	if _, dup := expectations[key]; dup {
		panic(fmt.Sprintf("two expectations for %s", key))
	}
	expectations[key] = f
}

// in reports whether t lies in the half-open window [x.From, x.To).
func (x *X) in(t int64) bool { return t >= x.From && t < x.To }

// since reports whether t lies in [x.To - d, x.To).
func (x *X) since(t int64, d time.Duration) bool {
	return t >= x.To-int64(d/time.Second) && t < x.To
}
