package measures

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OpenPool opens a connection pool to a site's database for the runner alone. On MariaDB,
// MySQL and PostgreSQL every connection is made read-only and time-limited once, when it is
// made, and prepared reports it: give it to Site.SessionsPrepared, so that a burst starts with
// its first query instead of setting its session up again (a ping and one to four statements,
// each a round trip: 0.2 to 0.4 ms of an instant burst of 6 to 10 ms). SQLite keeps the
// per-burst set-up (prepared is false): it has no round trips to save, and an in-memory
// database is written through the same pool.
//
// On MariaDB and MySQL the pool also sends each statement with its arguments written in,
// in one round trip (the driver's interpolateParams), unless the DSN sets interpolateParams
// itself: the driver would otherwise prepare, run and close every statement, three messages
// where one does, about 1 ms of an instant burst of 10 ms on MariaDB.
//
// Nothing else may use the pool: its connections cannot write.
func OpenPool(d Dialect, dsn string, statementTimeout time.Duration) (db *sql.DB, prepared bool, err error) {
	plain, err := sql.Open(d.DriverName(), dsn)
	if err != nil || d == SQLite {
		return plain, false, err
	}
	dc, ok := plain.Driver().(driver.DriverContext)
	if !ok {
		return plain, false, nil
	}
	plain.Close()
	base, err := dc.OpenConnector(dsn)
	if err != nil {
		return nil, false, err
	}
	if d == MySQL {
		// A DSN the driver refuses to interpolate for (a multi-byte collation where escaping
		// is unsafe) keeps the prepared statements of base.
		if oneTrip, err := dc.OpenConnector(withInterpolation(dsn)); err == nil {
			base = oneTrip
		}
	}
	return sql.OpenDB(preparedConnector{Connector: base, setup: sessionSetup(d, statementTimeout)}), true, nil
}

// preparedConnector runs a session's set-up statements on each new connection.
type preparedConnector struct {
	driver.Connector
	setup []setupStmt
}

// Connect opens a connection and sets it up; a connection whose set-up fails is closed.
func (c preparedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, stmt := range c.setup {
		if err := execConn(ctx, conn, stmt.sql); err != nil && !stmt.optional {
			conn.Close()
			return nil, fmt.Errorf("prepare session (%s): %w", stmt.sql, err)
		}
	}
	return conn, nil
}

// execConn runs one statement without arguments on a driver connection.
func execConn(ctx context.Context, conn driver.Conn, query string) error {
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		return errors.New("the database driver cannot run a statement on a new connection")
	}
	_, err := ex.ExecContext(ctx, query, nil)
	return err
}

// withInterpolation returns a go-sql-driver/mysql DSN
// ([user[:password]@][net[(addr)]]/dbname[?param=value&...]) with interpolateParams=true
// added, or dsn itself when it sets interpolateParams already or has no database part. Like the
// driver, it takes the parameters from after the DSN's last slash, so a password may hold a
// slash or a question mark.
func withInterpolation(dsn string) string {
	slash := strings.LastIndex(dsn, "/")
	if slash < 0 {
		return dsn
	}
	_, params, hasParams := strings.Cut(dsn[slash+1:], "?")
	if !hasParams {
		return dsn + "?interpolateParams=true"
	}
	for _, p := range strings.Split(params, "&") {
		if name, _, _ := strings.Cut(p, "="); name == "interpolateParams" {
			return dsn
		}
	}
	if params == "" {
		return dsn + "interpolateParams=true"
	}
	return dsn + "&interpolateParams=true"
}
