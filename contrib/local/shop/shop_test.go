package shop_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/contrib/contribtest"
	"github.com/moodle-zabbix/moodle-zabbix/contrib/local/shop"
	"github.com/moodle-zabbix/moodle-zabbix/measures"
)

// The daily and monthly windows, written out rather than computed by the code under test.
var (
	dayStart   = time.Date(2026, 5, 31, 0, 0, 0, 0, contribtest.Location).Unix()
	dayEnd     = time.Date(2026, 6, 1, 0, 0, 0, 0, contribtest.Location).Unix()
	monthStart = time.Date(2026, 5, 1, 0, 0, 0, 0, contribtest.Location).Unix()
)

// The plugin's tables, with the columns of its db/install.xml (local_shop_bill without
// expectedpaiement, which the measures never read).
var (
	billTable = contribtest.Table{Name: "local_shop_bill", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 11, NotNull: true, Sequence: true},
		{Name: "blockid", Type: contribtest.TypeInt, Length: 11},
		{Name: "shopid", Type: contribtest.TypeInt, Length: 11},
		{Name: "userid", Type: contribtest.TypeInt, Length: 11},
		{Name: "idnumber", Type: contribtest.TypeChar, Length: 255},
		{Name: "ordering", Type: contribtest.TypeInt, Length: 11},
		{Name: "customerid", Type: contribtest.TypeChar, Length: 50, NotNull: true},
		{Name: "title", Type: contribtest.TypeChar, Length: 255},
		{Name: "worktype", Type: contribtest.TypeChar, Length: 5, NotNull: true, HasDefault: true, Default: "PACK"},
		{Name: "status", Type: contribtest.TypeChar, Length: 10, NotNull: true, HasDefault: true, Default: "PENDING"},
		{Name: "remotestatus", Type: contribtest.TypeChar, Length: 10, HasDefault: true, Default: ""},
		{Name: "emissiondate", Type: contribtest.TypeInt, Length: 11},
		{Name: "lastactiondate", Type: contribtest.TypeInt, Length: 11},
		{Name: "assignedto", Type: contribtest.TypeChar, Length: 16},
		{Name: "timetodo", Type: contribtest.TypeFloat, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "untaxedamount", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "taxes", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "amount", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "currency", Type: contribtest.TypeChar, Length: 16, NotNull: true, HasDefault: true, Default: "EUR"},
		{Name: "convertedamount", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "transactionid", Type: contribtest.TypeChar, Length: 40},
		{Name: "onlinetransactionid", Type: contribtest.TypeChar, Length: 128},
		{Name: "paiedamount", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "paymode", Type: contribtest.TypeChar, Length: 16, NotNull: true, HasDefault: true, Default: "CHK"},
		{Name: "ignoretax", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "productiondata", Type: contribtest.TypeText},
		{Name: "paymentfee", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "productionfeedback", Type: contribtest.TypeText},
		{Name: "test", Type: contribtest.TypeInt, Length: 1, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "transactional_ordering", Unique: true, Fields: []string{"transactionid"}},
		{Name: "unique_ordering", Unique: true, Fields: []string{"ordering"}},
		{Name: "ix_user_id", Fields: []string{"customerid"}},
		{Name: "ix_shopid", Fields: []string{"shopid"}},
	}}

	billItemTable = contribtest.Table{Name: "local_shop_billitem", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 11, NotNull: true, Sequence: true},
		{Name: "billid", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "ordering", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "type", Type: contribtest.TypeChar, Length: 10, NotNull: true, HasDefault: true, Default: "BILLING"},
		{Name: "itemcode", Type: contribtest.TypeChar, Length: 32},
		{Name: "catalogitem", Type: contribtest.TypeText},
		{Name: "abstract", Type: contribtest.TypeChar, Length: 80, NotNull: true},
		{Name: "description", Type: contribtest.TypeText, NotNull: true},
		{Name: "delay", Type: contribtest.TypeFloat},
		{Name: "unitcost", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, NotNull: true, HasDefault: true, Default: "0.00"},
		{Name: "quantity", Type: contribtest.TypeFloat, NotNull: true, HasDefault: true, Default: "1"},
		{Name: "totalprice", Type: contribtest.TypeNumber, Length: 10, Decimals: 3, HasDefault: true, Default: "0.00"},
		{Name: "taxcode", Type: contribtest.TypeChar, Length: 8},
		{Name: "bundleid", Type: contribtest.TypeInt, Length: 6},
		{Name: "customerdata", Type: contribtest.TypeText},
		{Name: "productiondata", Type: contribtest.TypeText},
	}, Indexes: []contribtest.Index{
		{Name: "unique_ordering", Fields: []string{"billid", "ordering"}},
		{Name: "bill_ix", Fields: []string{"billid"}},
	}}

	customerTable = contribtest.Table{Name: "local_shop_customer", Columns: []contribtest.Column{
		{Name: "id", Type: contribtest.TypeInt, Length: 10, NotNull: true, Sequence: true},
		{Name: "firstname", Type: contribtest.TypeChar, Length: 40, NotNull: true},
		{Name: "lastname", Type: contribtest.TypeChar, Length: 40, NotNull: true},
		{Name: "address", Type: contribtest.TypeChar, Length: 255},
		{Name: "zip", Type: contribtest.TypeChar, Length: 6, NotNull: true},
		{Name: "email", Type: contribtest.TypeChar, Length: 80, NotNull: true},
		{Name: "city", Type: contribtest.TypeChar, Length: 40, NotNull: true},
		{Name: "country", Type: contribtest.TypeChar, Length: 2, NotNull: true},
		{Name: "organisation", Type: contribtest.TypeChar, Length: 64, NotNull: true},
		{Name: "hasaccount", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
		{Name: "timecreated", Type: contribtest.TypeInt, Length: 11, NotNull: true, HasDefault: true, Default: "0"},
	}, Indexes: []contribtest.Index{
		{Name: "ix_customer_user", Fields: []string{"hasaccount"}},
		{Name: "ix_country", Fields: []string{"country"}},
	}}
)

// line is a bill line: its type and quantity.
type line struct {
	kind string
	qty  float64
}

type bill struct {
	customer int
	status   string
	emitted  int64
	amount   float64
	test     bool
	lines    []line
}

// site is what the test inserts on top of the core fixture: bills and customers.
type site struct {
	bills     []bill
	customers []int64 // creation times
}

func newSite() site {
	two := []line{{"BILLING", 2}, {"SHIPPING", 1}}
	return site{
		bills: []bill{
			{1, "SOLDOUT", dayStart, 120.5, false, two},                           // paid at the day's first second
			{2, "COMPLETE", dayEnd - 1, 80.25, false, []line{{"BILLING", 3}}},     // paid at its last second
			{1, "PENDING", dayStart + 600, 45, false, []line{{"BILLING", 1}}},     // not paid
			{3, "REFUSED", dayStart + 7200, 60, false, []line{{"BILLING", 4}}},    // payment refused
			{4, "SOLDOUT", dayStart + 9000, 999, true, []line{{"BILLING", 7}}},    // test order
			{5, "SOLDOUT", dayStart - 1, 33, false, []line{{"BILLING", 1}}},       // the day before
			{6, "COMPLETE", dayEnd, 17, false, []line{{"BILLING", 1}}},            // the day after
			{3, "FAILED", dayStart + 3600, 10.125, false, []line{{"BILLING", 5}}}, // paid, production failed
			{7, "FAILED", dayStart - 86400*10, 12, false, nil},                    // an older failure
			{8, "FAILED", dayStart + 100, 15, true, nil},                          // a failed test order
			{2, "PLACED", dayStart + 40000, 22, false, []line{{"DISCOUNT", 1}}},   // placed
			{9, "SOLDOUT", dayStart + 50000, 7.75, false, []line{{"BILLING", 2.5}, {"BILLING", 1.5}, {"SHIPPING", 1}}},
			{10, "PENDING", dayStart + 60000, 5, false, []line{{"BILLING", 6}}},    // a fifth customer
			{1, "COMPLETE", dayStart - 5*86400, 50, false, []line{{"BILLING", 2}}}, // earlier in the month
		},
		customers: []int64{dayStart - 1, dayStart, dayStart + 3600, dayEnd - 1, dayEnd, dayStart - 86400*30,
			dayStart + 10, dayStart + 20000, dayStart + 30000},
	}
}

// want computes the expected values of the daily keys from the rows, in Go.
func (s site) want() map[string]string {
	return s.wantIn(dayStart, dayEnd)
}

// wantMonth computes the expected values of the monthly keys.
func (s site) wantMonth() map[string]string {
	w := s.wantIn(monthStart, dayEnd)
	return map[string]string{
		"moodle.shop.monthlybills":        w["moodle.shop.dailybills"],
		"moodle.shop.monthlyamount":       w["moodle.shop.dailyamount"],
		"moodle.shop.monthlyproducts":     w["moodle.shop.dailyproducts"],
		"moodle.shop.monthlycustomers":    w["moodle.shop.dailycustomers"],
		"moodle.shop.monthlynewcustomers": w["moodle.shop.dailynewcustomers"],
	}
}

// wantIn computes the values of the daily keys for the window [from, to).
func (s site) wantIn(from, to int64) map[string]string {
	orders, paidOrders, refused, failed := 0, 0, 0, 0
	amount, products := 0.0, 0.0
	customers := map[int]bool{}
	for _, b := range s.bills {
		if b.test {
			continue
		}
		if b.status == "FAILED" {
			failed++
		}
		if b.emitted < from || b.emitted >= to {
			continue
		}
		orders++
		customers[b.customer] = true
		switch b.status {
		case "SOLDOUT", "COMPLETE":
			paidOrders++
			amount += b.amount
			for _, l := range b.lines {
				if l.kind == "BILLING" {
					products += l.qty
				}
			}
		case "REFUSED":
			refused++
		}
	}
	newCustomers := 0
	for _, c := range s.customers {
		if c >= from && c < to {
			newCustomers++
		}
	}
	return map[string]string{
		"moodle.shop.dailybills":        strconv.Itoa(orders),
		"moodle.shop.dailypaid":         strconv.Itoa(paidOrders),
		"moodle.shop.dailyamount":       strconv.FormatFloat(amount, 'f', -1, 64),
		"moodle.shop.dailyproducts":     strconv.FormatFloat(products, 'f', -1, 64),
		"moodle.shop.dailycustomers":    strconv.Itoa(len(customers)),
		"moodle.shop.dailynewcustomers": strconv.Itoa(newCustomers),
		"moodle.shop.dailyrefused":      strconv.Itoa(refused),
		"moodle.shop.failed":            strconv.Itoa(failed),
	}
}

// TestPack checks the pack on SQLite, MariaDB and PostgreSQL: skipped without the plugin,
// exact values with it.
func TestPack(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: shop.Register, Component: shop.Component, Family: measures.Daily,
		Install: func(t *testing.T, db *contribtest.DB, _ *contribtest.Site) map[string]string {
			s := newSite()
			install(t, db, s)
			return s.want()
		},
	})
}

// TestPackMonthly checks the month's keys the same way.
func TestPackMonthly(t *testing.T) {
	contribtest.Engines(t, contribtest.Pack{
		Register: shop.Register, Component: shop.Component, Family: measures.Monthly,
		Install: func(t *testing.T, db *contribtest.DB, _ *contribtest.Site) map[string]string {
			s := newSite()
			install(t, db, s)
			return s.wantMonth()
		},
	})
}

// install creates the plugin's tables and writes its version row and the test rows.
func install(t *testing.T, db *contribtest.DB, s site) {
	t.Helper()
	db.CreateTables(t, billTable, billItemTable, customerTable)
	db.InstallPlugin(t, shop.Component, "2024061400")
	for i, b := range s.bills {
		id := int64(i + 1)
		db.Exec(t, `INSERT INTO {local_shop_bill} (id, shopid, ordering, customerid, title, status, emissiondate, lastactiondate,
       amount, untaxedamount, paiedamount, transactionid, test) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, 1, id, strconv.Itoa(b.customer), "Order "+strconv.FormatInt(id, 10), b.status, b.emitted, b.emitted+60,
			b.amount, b.amount/1.2, b.amount, "TX"+strconv.FormatInt(id, 10), map[bool]int{false: 0, true: 1}[b.test])
		for j, l := range b.lines {
			db.Exec(t, `INSERT INTO {local_shop_billitem} (billid, ordering, type, itemcode, abstract, description, unitcost, quantity,
       totalprice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, j+1, l.kind, "P"+strconv.Itoa(j), "Item", "", 10, l.qty, 10*l.qty)
		}
	}
	for i, c := range s.customers {
		n := strconv.Itoa(i + 1)
		db.Exec(t, `INSERT INTO {local_shop_customer} (firstname, lastname, zip, email, city, country, organisation, timecreated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, "Customer", n, "75001", "c"+n+"@shop.invalid", "Paris", "FR", "", c)
	}
}
