package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres is Backup's answer on PostgreSQL, whose own tools back up
// a live database better than Keyport could.
var ErrBackupPostgres = errors.New("keyport backup copies the embedded SQLite file only; on PostgreSQL use pg_dump -Fc " +
	"(restore with pg_restore) or your provider's point-in-time recovery")

// Backup writes a consistent copy of the database to a new file at path with
// mode 0600, while other connections keep reading and writing: VACUUM INTO
// copies one read snapshot, so the copy holds exactly the transactions
// committed before it started. An existing file at path is never overwritten.
// It returns the size of the copy in bytes.
func (db *DB) Backup(ctx context.Context, path string) (int64, error) {
	if db.dialect.engine == Postgres {
		return 0, ErrBackupPostgres
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return 0, fmt.Errorf("%s already exists; choose a new file name", path)
	}
	if err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if _, err := db.sql.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		_ = os.Remove(path)
		return 0, fmt.Errorf("back up to %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
