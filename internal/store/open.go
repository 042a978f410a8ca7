package store

import (
	"context"
	"fmt"
)

// Open opens (creating and migrating when needed) the store dsn names:
// see ParseDSN for the forms. A database migrated by a newer Vigil is
// refused with ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (Store, error) {
	d, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	// Each case checks err itself: returning a nil *sqliteStore as a
	// Store would make a non-nil interface.
	switch d.Backend {
	case SQLite:
		s, err := openSQLite(ctx, d)
		if err != nil {
			return nil, err
		}
		return s, nil
	case Postgres:
		s, err := openPostgres(ctx, d)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("store DSN %s: unknown backend %q", d, d.Backend)
}

// BatchWriter is implemented by stores that can write many downloads in
// one transaction; BatchRecorder uses it to turn N commits into one.
type BatchWriter interface {
	RecordDownloads(ctx context.Context, ds []Download) error
}

var (
	_ BatchWriter = (*sqliteStore)(nil)
	_ BatchWriter = (*pgStore)(nil)
)
