// Package shop holds the measures of local_shop, the integrated Moodle shop: orders, the amount
// paid and the products sold each day and each month, the customers who ordered and those who
// registered, and the paid orders whose production failed. It keeps the keys report_zabbix read from the
// shop's own indicator (moodle.shop.dailybills, moodle.shop.dailyamount) and fixes their
// window. The measures go to the "Moodle shop" template and are skipped on sites where the
// plugin is not installed.
package shop

import "github.com/moodle-zabbix/moodle-zabbix/measures"

// Component is the plugin's frankenstyle name, as {config_plugins} records it.
const Component = "local_shop"

// Template is the Zabbix host template carrying the pack's items; link it to the hosts of
// sites that have the plugin.
const Template = "Moodle shop"

// paid are the bill states of an order that has been paid: SOLDOUT (paid) and COMPLETE (paid
// and produced).
const paid = "'SOLDOUT', 'COMPLETE'"

// daily and monthly fill every key of the pack, each in one round trip.
var (
	daily   = periodQuery("shop.daily")
	monthly = periodQuery("shop.monthly")
)

// periodQuery runs periodSQL over the family's window.
func periodQuery(name string) *measures.Query {
	return &measures.Query{
		Name: name,
		SQL:  periodSQL,
		Args: func(p measures.Params) []any {
			return []any{p.From(), p.To(), p.From(), p.To(), p.From(), p.To()}
		},
		Component: Component,
		Cost: "local_shop_bill has no index on emissiondate, so one pass over the bills (one row per order ever placed) " +
			"and one over the failed ones; the billing lines are read through their bill index, the customers in one pass.",
	}
}

// periodSQL reads the bills emitted during the window (test bills left out), and as scalar
// subqueries the products on their billing lines, the customers created during the window and
// the failed orders.
const periodSQL = `SELECT COUNT(*) AS orders,
       SUM(CASE WHEN b.status IN (` + paid + `) THEN 1 ELSE 0 END) AS paidorders,
       SUM(CASE WHEN b.status IN (` + paid + `) THEN b.amount ELSE 0 END) AS amount,
       SUM(CASE WHEN b.status = 'REFUSED' THEN 1 ELSE 0 END) AS refused,
       COUNT(DISTINCT b.customerid) AS customers,
       (SELECT SUM(i.quantity)
          FROM {local_shop_billitem} i
          JOIN {local_shop_bill} pb ON pb.id = i.billid
         WHERE pb.emissiondate >= ? AND pb.emissiondate < ? AND pb.test = 0
           AND pb.status IN (` + paid + `) AND i.type = 'BILLING') AS products,
       (SELECT COUNT(*) FROM {local_shop_customer} c
         WHERE c.timecreated >= ? AND c.timecreated < ?) AS newcustomers,
       (SELECT COUNT(*) FROM {local_shop_bill} f WHERE f.status = 'FAILED' AND f.test = 0) AS failed
  FROM {local_shop_bill} b
 WHERE b.emissiondate >= ? AND b.emissiondate < ? AND b.test = 0`

// Register adds the pack's measures to r; init registers them in measures.Default, and tests
// use a fresh registry. It panics on an invalid definition.
func Register(r *measures.Registry) {
	r.MustRegister(
		measures.Measure{
			Key:         "moodle.shop.dailybills",
			Name:        "Shop orders",
			Description: "Orders (local_shop bills) emitted during the day, whatever their state, test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "orders",
			Query: daily, Column: "orders",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop orders", Dashboard: true,
			Legacy: true,
			Fixes:  "report_zabbix counted the bills emitted in the 24 hours before the run, so a late or repeated run counted another day, and it counted test orders.",
		},
		measures.Measure{
			Key:         "moodle.shop.dailypaid",
			Name:        "Shop orders paid",
			Description: "Orders emitted during the day that are paid (state SOLDOUT or COMPLETE) at collection time, test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "orders",
			Query: daily, Column: "paidorders",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop orders",
		},
		measures.Measure{
			Key:         "moodle.shop.dailyamount",
			Name:        "Shop amount paid",
			Description: "Total amount, taxes included, of the orders emitted during the day that are paid (state SOLDOUT or COMPLETE), test orders left out; amounts in different currencies are added as they are.",
			Family:      measures.Daily, Type: measures.Float,
			Query: daily, Column: "amount",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop amount paid", Dashboard: true,
			Legacy: true,
			Fixes:  "report_zabbix summed the paid bills emitted in the 24 hours before the run, test orders included, so a late or repeated run counted another day.",
		},
		measures.Measure{
			Key:         "moodle.shop.dailyproducts",
			Name:        "Shop products sold",
			Description: "Products sold during the day: the quantities on the billing lines of the paid orders emitted during the day, test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "products",
			Query: daily, Column: "products",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop products sold", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.shop.dailycustomers",
			Name:        "Shop customers ordering",
			Description: "Distinct customers who placed at least one order emitted during the day, test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "customers",
			Query: daily, Column: "customers",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop customers", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.shop.dailynewcustomers",
			Name:        "Shop customers registered",
			Description: "Customer records (local_shop_customer) created during the day.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "customers",
			Query: daily, Column: "newcustomers",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop customers",
		},
		measures.Measure{
			Key:         "moodle.shop.dailyrefused",
			Name:        "Shop payments refused",
			Description: "Orders emitted during the day whose payment failed or was rejected (state REFUSED), test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "orders",
			Query: daily, Column: "refused",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop orders",
		},
		// The month's figures, for business reporting: Zabbix cannot add daily values up.
		measures.Measure{
			Key:         "moodle.shop.monthlybills",
			Name:        "Shop orders (month)",
			Description: "Orders (local_shop bills) emitted during the month, whatever their state, test orders left out.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "orders",
			Query: monthly, Column: "orders",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop orders per month", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.shop.monthlyamount",
			Name:        "Shop amount paid (month)",
			Description: "Total amount, taxes included, of the orders emitted during the month that are paid (state SOLDOUT or COMPLETE), test orders left out; amounts in different currencies are added as they are.",
			Family:      measures.Monthly, Type: measures.Float,
			Query: monthly, Column: "amount",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop amount paid per month", Dashboard: true,
		},
		measures.Measure{
			Key:         "moodle.shop.monthlyproducts",
			Name:        "Shop products sold (month)",
			Description: "Products sold during the month: the quantities on the billing lines of the paid orders emitted during the month, test orders left out.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "products",
			Query: monthly, Column: "products",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop orders per month",
		},
		measures.Measure{
			Key:         "moodle.shop.monthlycustomers",
			Name:        "Shop customers ordering (month)",
			Description: "Distinct customers who placed at least one order emitted during the month, test orders left out.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "customers",
			Query: monthly, Column: "customers",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop customers per month",
		},
		measures.Measure{
			Key:         "moodle.shop.monthlynewcustomers",
			Name:        "Shop customers registered (month)",
			Description: "Customer records (local_shop_customer) created during the month.",
			Family:      measures.Monthly, Type: measures.Unsigned, Units: "customers",
			Query: monthly, Column: "newcustomers",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Graph: "Shop customers per month",
		},
		measures.Measure{
			Key:         "moodle.shop.failed",
			Name:        "Shop orders not produced",
			Description: "Orders whose production failed after payment (state FAILED) at collection time, whenever they were emitted, test orders left out.",
			Family:      measures.Daily, Type: measures.Unsigned, Units: "orders",
			Query: daily, Column: "failed",
			Aggregate: measures.Sum, Template: Template, Domain: "shop",
			Triggers: []measures.Trigger{{
				Name:        "Paid shop orders were not delivered on {HOST.NAME}",
				Expression:  "last({item})>{$MOODLE.SHOP.FAILED.MAX}",
				Severity:    measures.Average,
				Description: "Customers paid for these orders but their production (enrolments, accounts) failed: see the shop's bills in state FAILED and run their production again.",
				Macros: []measures.Macro{{
					Name:        "{$MOODLE.SHOP.FAILED.MAX}",
					Value:       "0",
					Description: "How many paid orders may wait in the FAILED state without raising a problem.",
				}},
			}},
		},
	)
}

func init() { Register(measures.Default) }
