package templates

import (
	"hash/fnv"
	"strings"

	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// linePalette holds the colours of graph lines. A line's colour depends on its measure alone,
// never on its position in the graph, so adding a measure to a graph changes no other line.
var linePalette = []string{
	"1E88E5", "E53935", "43A047", "FB8C00", "8E24AA", "00ACC1",
	"6D4C41", "D81B60", "7CB342", "3949AB", "FDD835", "546E7A",
	"0D47A1", "B71C1C", "1B5E20", "E65100", "4A148C", "006064",
	"F06292", "64B5F6", "A1887F", "9E9D24", "00897B", "212121",
}

// lineSalt is mixed into the hash so that no two lines of one graph of the catalogue share a
// colour (TestLineColoursDistinct); a measure added later that collides sets GraphColor.
const lineSalt = "moodle-zabbix line colour 1 "

// lineColour is the colour of a measure's graph line: its GraphColor when set, otherwise a
// colour of linePalette chosen by a hash of its key without parameters, so that one measure
// has one colour in the site and fleet graphs and in each family's graph
// (moodle.self.sent[daily] and moodle.self.sent[hourly] alike).
func lineColour(m *measures.Measure) string {
	if m.GraphColor != "" {
		return strings.ToUpper(m.GraphColor)
	}
	stem := m.Key
	if i := strings.IndexByte(stem, '['); i >= 0 {
		stem = stem[:i]
	}
	h := fnv.New32a()
	h.Write([]byte(lineSalt + stem))
	return linePalette[h.Sum32()%uint32(len(linePalette))]
}
