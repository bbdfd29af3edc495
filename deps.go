//go:build tools

package tools

import (
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/robfig/cron/v3"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)
