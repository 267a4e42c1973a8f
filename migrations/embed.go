// Package migrations embeds the numbered SQL files that build the database
// schema, one folder per engine with the same file names.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// SQLite holds the SQLite migrations, named NNN_description.sql and applied in name order.
var SQLite = sub("sqlite")

// Postgres holds the PostgreSQL migrations, with the same names as SQLite's.
var Postgres = sub("postgres")

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err)
	}
	return f
}
