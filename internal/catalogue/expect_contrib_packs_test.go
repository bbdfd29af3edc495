package catalogue_test

// The plugin packs of local_shop, mod_learningtimecheck, mod_attendance and block_xp: the core
// fixture installs none of these plugins, so their measures must be skipped (never fail) on
// all three engines. Each pack proves its values against its own tables, in contrib/.
func init() {
	for _, key := range []string{
		// contrib/local/shop (local_shop)
		"moodle.shop.dailybills",
		"moodle.shop.dailypaid",
		"moodle.shop.dailyamount",
		"moodle.shop.dailyproducts",
		"moodle.shop.dailycustomers",
		"moodle.shop.dailynewcustomers",
		"moodle.shop.dailyrefused",
		"moodle.shop.failed",
		"moodle.shop.monthlybills",
		"moodle.shop.monthlyamount",
		"moodle.shop.monthlyproducts",
		"moodle.shop.monthlycustomers",
		"moodle.shop.monthlynewcustomers",
		// contrib/mod/learningtimecheck (mod_learningtimecheck)
		"moodle.ltc.dailystudentmarks",
		"moodle.ltc.dailystudentmandatorymarks",
		"moodle.ltc.dailyteachermarks",
		"moodle.ltc.dailyfullcompletions",
		"moodle.ltc.dailycredittime",
		"moodle.ltc.monthlystudentmarks",
		"moodle.ltc.monthlyfullcompletions",
		"moodle.ltc.monthlycredittime",
		// contrib/mod/attendance (mod_attendance)
		"moodle.attendance.sessions",
		"moodle.attendance.taken",
		"moodle.attendance.untaken",
		"moodle.attendance.marks",
		"moodle.attendance.students",
		"moodle.attendance.presentratio",
		// contrib/block/xp (block_xp)
		"moodle.xp.points",
		"moodle.xp.earners",
		"moodle.xp.courses",
		"moodle.xp.levelups",
		"moodle.xp.leveledusers",
		"moodle.xp.monthlypoints",
		"moodle.xp.monthlyearners",
		"moodle.xp.monthlylevelups",
	} {
		expect(key, func(*X) any { return Skipped{} })
	}
}
