package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"keyport/migrations"
)

// Engine names a database engine Keyport runs on.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// writeLockKey is the PostgreSQL advisory lock every write transaction takes,
// and migrateLockKey the one a migration run holds: two arbitrary constants.
const (
	writeLockKey   = 7_316_482_001
	migrateLockKey = 7_316_482_002
)

// dialect is everything the two engines do differently; every query text is
// otherwise shared ($N placeholders, RETURNING, standard SQL).
type dialect struct {
	engine Engine
	// migrations are the engine's migration files.
	migrations fs.FS
}

func dialectOf(e Engine) dialect {
	if e == Postgres {
		return dialect{engine: Postgres, migrations: migrations.Postgres}
	}
	return dialect{engine: SQLite, migrations: migrations.SQLite}
}

// IsPostgres reports whether target names a PostgreSQL database rather than a SQLite file.
func IsPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// lockWrites runs first in every write transaction. SQLite's BEGIN IMMEDIATE
// already lets one writer in at a time; PostgreSQL takes a transaction-level
// advisory lock, so that every rule read and then written inside a
// transaction (the token cap, a request's state, a single reveal) holds
// across connections and replicas exactly as it does on SQLite.
func (d dialect) lockWrites(ctx context.Context, tx *sql.Tx) error {
	if d.engine != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLockKey))
	return err
}

// skipLocked ends a SELECT that claims rows: PostgreSQL skips the rows
// another transaction is claiming; SQLite has one writer at a time.
func (d dialect) skipLocked() string {
	if d.engine != Postgres {
		return ""
	}
	return " FOR UPDATE SKIP LOCKED"
}

// indexedBy is SQLite's hint to read table through index; PostgreSQL's planner needs none.
func (d dialect) indexedBy(index string) string {
	if d.engine != SQLite {
		return ""
	}
	return " INDEXED BY " + index
}

// isUniqueViolation reports whether err is the database refusing a duplicate in a unique index.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
