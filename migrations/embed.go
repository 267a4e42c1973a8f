// Package migrations embeds the numbered SQL files that build the database schema.
package migrations

import "embed"

// FS holds every migration file, named NNN_description.sql and applied in name order.
//
//go:embed *.sql
var FS embed.FS
