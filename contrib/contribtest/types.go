package contribtest

import "github.com/moodle-zabbix/moodle-zabbix/internal/fixture"

// ColumnType is an XMLDB column type, as a plugin's db/install.xml writes it.
type ColumnType string

// XMLDB column types.
const (
	// TypeInt is an integer column (Length digits).
	TypeInt ColumnType = "int"
	// TypeNumber is a fixed-point decimal column (Length, Decimals).
	TypeNumber ColumnType = "number"
	// TypeChar is a bounded string column (Length characters).
	TypeChar ColumnType = "char"
	// TypeText is an unbounded text column.
	TypeText ColumnType = "text"
	// TypeFloat is a floating-point column.
	TypeFloat ColumnType = "float"
)

// Column is one column of a plugin table, as its db/install.xml defines it.
type Column struct {
	Name       string
	Type       ColumnType
	Length     int
	Decimals   int
	NotNull    bool
	HasDefault bool
	Default    string
	Sequence   bool
}

// Index is one index of a plugin table (one per XMLDB index, unique key or foreign key).
type Index struct {
	Name   string
	Unique bool
	Fields []string
}

// Table is a plugin table definition, without the prefix.
type Table struct {
	Name    string
	Columns []Column
	Indexes []Index
}

// fixture converts the definition for the fixture's DDL writer.
func (t Table) fixture() fixture.Table {
	out := fixture.Table{Name: t.Name}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, fixture.Column{Name: c.Name, Type: fixture.ColumnType(c.Type), Length: c.Length,
			Decimals: c.Decimals, NotNull: c.NotNull, HasDefault: c.HasDefault, Default: c.Default, Sequence: c.Sequence})
	}
	for _, ix := range t.Indexes {
		out.Indexes = append(out.Indexes, fixture.Index{Name: ix.Name, Unique: ix.Unique, Fields: append([]string(nil), ix.Fields...)})
	}
	return out
}

// Site is what a pack's test can build on in the core synthetic site loaded before Install:
// its courses, users and activity module types, with their ids.
type Site struct {
	// Courses lists every course in id order, the front page (id 1, category 0) first.
	Courses []Course
	// Users lists every user in id order: the guest account (id 1), the administrator (id 2),
	// then ordinary users, some deleted or suspended, and one of a remote MNet host.
	Users []User
	// Modules lists the installed activity module types in id order.
	Modules []Module
}

// Course is a course of the core site.
type Course struct {
	ID        int64
	Category  int64
	ShortName string
	Visible   int
}

// User is a user of the core site.
type User struct {
	ID         int64
	Auth       string
	Deleted    int
	Suspended  int
	MnetHostID int64
}

// Module is an activity module type of the core site (a row of {modules}).
type Module struct {
	ID   int64
	Name string
}

// siteOf copies what a pack's test may use from the generated site.
func siteOf(m *fixture.Model) *Site {
	s := &Site{}
	for _, c := range m.Courses {
		s.Courses = append(s.Courses, Course{ID: c.ID, Category: c.Category, ShortName: c.ShortName, Visible: c.Visible})
	}
	for _, u := range m.Users {
		s.Users = append(s.Users, User{ID: u.ID, Auth: u.Auth, Deleted: u.Deleted, Suspended: u.Suspended, MnetHostID: u.MnetHostID})
	}
	for _, mod := range m.Modules {
		s.Modules = append(s.Modules, Module{ID: mod.ID, Name: mod.Name})
	}
	return s
}
