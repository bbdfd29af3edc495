package templates

import "strings"

// convertedUnits are the units whose conversion by Zabbix helps the reader: bytes get K, M and
// G (base 2), seconds become "1h 2m", Unix times become dates. Zabbix also converts any other
// unit with metric prefixes, which turns a count of 4,680 users into "4.68 Kusers"; such units
// are written with the "!" prefix, which tells Zabbix (4.0 and later) to show the number as it
// is followed by the unit.
var convertedUnits = map[string]bool{
	"B": true, "Bps": true, "b": true, "bps": true,
	"s": true, "uptime": true, "unixtime": true,
	"%": true,
}

// MaxUnitLength is the longest unit word a template shows (after the "!"): longer words clip
// the value axis of Zabbix graphs.
const MaxUnitLength = 8

// shortUnits are the abbreviations of the catalogue's unit words longer than MaxUnitLength.
var shortUnits = map[string]string{
	"activities":    "acts",
	"assignments":   "assigns",
	"certificates":  "certs",
	"completions":   "compl.",
	"discussions":   "discuss.",
	"submissions":   "subm.",
	"events/min":    "ev/min",
	"content types": "types",
	"customers":     "clients",
}

// ItemUnits returns the units field of an item for a measure's units: unchanged for units Zabbix
// converts usefully (B, s, unixtime...), otherwise abbreviated when long and prefixed with "!"
// so that a count is never shown as "4.68 K". Empty stays empty.
func ItemUnits(units string) string {
	if units == "" || convertedUnits[units] || strings.HasPrefix(units, "!") {
		return units
	}
	if s, ok := shortUnits[units]; ok {
		units = s
	}
	return "!" + units
}
