package catalogue_test

import (
	"sort"
	"testing"

	"github.com/moodle-zabbix/moodle-zabbix/internal/fixture"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// TestCatalogueEnginesAgree runs the whole catalogue on SQLite, MariaDB and PostgreSQL with the
// same fixture and requires the very same text for every value: the same data must give the same
// value on every engine, to the last decimal of a float.
func TestCatalogueEnginesAgree(t *testing.T) {
	sqlite, err := fixture.OpenSQLiteMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlite.Close() })
	mysqlLoad, mysqlRead, mysqlPrepared := programPool(t, measures.MySQL)
	pgLoad, pgRead, pgPrepared := programPool(t, measures.Postgres)
	ref, estimates := checkCatalogue(t, sqlite, sqlite, false, measures.SQLite)
	others := map[string]map[string]string{
		"MariaDB":    first(checkCatalogue(t, mysqlLoad, mysqlRead, mysqlPrepared, measures.MySQL)),
		"PostgreSQL": first(checkCatalogue(t, pgLoad, pgRead, pgPrepared, measures.Postgres)),
	}
	for engine, got := range others {
		var diff []string
		for k, v := range ref {
			if estimates[k] {
				continue // a size on disk or a row estimate: each engine has its own
			}
			if g, ok := got[k]; !ok || g != v {
				diff = append(diff, k+": SQLite "+v+", "+engine+" "+g)
			}
		}
		for k, g := range got {
			if _, ok := ref[k]; !ok {
				diff = append(diff, k+": SQLite nothing, "+engine+" "+g)
			}
		}
		sort.Strings(diff)
		for _, d := range diff {
			t.Error(d)
		}
	}
}
