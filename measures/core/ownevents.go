package core

// OwnEventSQL returns the SQL condition that keeps, among the standard log rows aliased alias,
// the events a person did on the site as themself, the rule of every count of active or
// logged-in users (site-wide, per authentication plugin, per course or category):
//   - not the guest account (config siteguest) and not user 0 (a visitor not logged in);
//   - not done by someone logged in as the user (realuserid is set on those rows);
//   - not done by a command-line script (origin 'cli'), such as cron acting for a user.
//
// Deleted users and users of a remote MNet host are kept: the events were done by a person.
func OwnEventSQL(alias string) string {
	return alias + `.realuserid IS NULL AND ` + alias + `.userid <> 0 AND ` + alias + `.userid <> ` + guestSQL +
		` AND (` + alias + `.origin IS NULL OR ` + alias + `.origin <> 'cli')`
}
