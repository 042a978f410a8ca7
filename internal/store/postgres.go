package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/policy"
)

// pgStore keeps the store in PostgreSQL, shared by several proxies. pgx
// prepares and caches every statement per connection (its default exec
// mode), so the hot insert is parsed once per connection.
type pgStore struct {
	name string // the DSN without its password, for messages
	pool *connPool
	now  func() time.Time
}

const pgInsert = "INSERT INTO downloads (time, " + downloadColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"

func openPostgres(ctx context.Context, d DSN) (_ *pgStore, err error) {
	cfg, err := pgx.ParseConfig(d.URL)
	if err != nil {
		return nil, fmt.Errorf("store DSN %s: %w", d, err)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "vigil"
	}
	size := d.MaxConns
	if size == 0 {
		size = max(4, runtime.GOMAXPROCS(0))
	}
	pool, err := newConnPool(cfg, size)
	if err != nil {
		return nil, fmt.Errorf("store DSN %s: %w", d, err)
	}
	s := &pgStore{name: d.String(), pool: pool, now: time.Now}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.pool.with(ctx, func(c *pgx.Conn) error { return migratePostgres(ctx, c) }); err != nil {
		return nil, fmt.Errorf("PostgreSQL store %s: %w", s.name, err)
	}
	return s, nil
}

func migratePostgres(ctx context.Context, c *pgx.Conn) error {
	ms, err := migrations(Postgres)
	if err != nil {
		return err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("starting the migration: %w", err)
	}
	defer tx.Rollback(ctx)
	// Several proxies may start at once against a new database; the lock
	// (per schema, released at commit) makes them migrate in turn rather
	// than race on CREATE TABLE.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('vigil.store.migrate.' || COALESCE(current_schema(), '')))"); err != nil {
		return fmt.Errorf("locking for the migration: %w", err)
	}
	if current := ""; tx.QueryRow(ctx, "SELECT COALESCE(current_schema(), '')").Scan(&current) == nil && current == "" {
		return errors.New("no schema to create tables in: the search_path names no existing schema")
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("creating schema_version: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("reading schema_version: %w", err)
	}
	todo, err := pending(ms, have)
	if err != nil {
		return err
	}
	for _, m := range todo {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", m.version); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing the migration: %w", err)
	}
	return nil
}

func (s *pgStore) RecordDownload(ctx context.Context, d Download) error {
	if err := checkDownload(&d, s.now()); err != nil {
		return err
	}
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, pgInsert, pgDownloadArgs(&d)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording download of %s@%s: %w", d.Name, d.Version, err)
	}
	return nil
}

// RecordDownloads writes ds with one COPY in one transaction.
func (s *pgStore) RecordDownloads(ctx context.Context, ds []Download) error {
	now := s.now()
	for i := range ds {
		if err := checkDownload(&ds[i], now); err != nil {
			return err
		}
	}
	columns := append([]string{"time"}, strings.Split(strings.ReplaceAll(downloadColumns, " ", ""), ",")...)
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		_, err := c.CopyFrom(ctx, pgx.Identifier{"downloads"}, columns, pgx.CopyFromSlice(len(ds), func(i int) ([]any, error) {
			return pgDownloadArgs(&ds[i]), nil
		}))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording %d downloads: %w", len(ds), err)
	}
	return nil
}

func pgDownloadArgs(d *Download) []any {
	return []any{d.Time, d.Name, d.Version, d.Integrity, d.Client, d.UserAgent,
		d.NpmCommand, d.NpmSession, d.NpmScope, d.User, string(d.Action), int32(d.Status), d.Reason}
}

func (s *pgStore) Downloads(ctx context.Context, q DownloadQuery) ([]Download, error) {
	f, err := newDownloadFilter(q)
	if err != nil {
		return nil, err
	}
	where, args := f.where(postgresDialect)
	query := "SELECT id, time, " + downloadColumns + " FROM downloads" + where + " ORDER BY time, id"
	if n := f.sqlLimit(); n > 0 {
		query += fmt.Sprintf(" LIMIT %d", n)
	}
	out := []Download{}
	err = s.pool.with(ctx, func(c *pgx.Conn) error {
		out = out[:0]
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for !f.full(len(out)) && rows.Next() {
			var d Download
			var action string
			var status int32
			if err := rows.Scan(&d.ID, &d.Time, &d.Name, &d.Version, &d.Integrity, &d.Client, &d.UserAgent,
				&d.NpmCommand, &d.NpmSession, &d.NpmScope, &d.User, &action, &status, &d.Reason); err != nil {
				return fmt.Errorf("reading a download row: %w", err)
			}
			d.Time, d.Action, d.Status = d.Time.UTC(), policy.Action(action), int(status)
			if f.keep(&d) {
				out = append(out, d)
			}
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("querying downloads: %w", err)
	}
	return out, nil
}

func (s *pgStore) AddQuarantine(ctx context.Context, e policy.QuarantineEntry) error {
	if err := checkQuarantine(&e, s.now()); err != nil {
		return err
	}
	var expires *time.Time
	if !e.Expires.IsZero() {
		expires = &e.Expires
	}
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO quarantine (package, versions, reason, added_by, added_at, expires)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (package, versions) DO UPDATE SET reason = excluded.reason, added_by = excluded.added_by,
				added_at = excluded.added_at, expires = excluded.expires`,
			e.Package, e.Versions, e.Reason, e.AddedBy, e.AddedAt, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("adding quarantine entry %s: %w", pattern(e.Package, e.Versions), err)
	}
	return nil
}

func (s *pgStore) RemoveQuarantine(ctx context.Context, pkg, versions string) error {
	pkg, versions = strings.TrimSpace(pkg), strings.TrimSpace(versions)
	var removed int64
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "DELETE FROM quarantine WHERE package = $1 AND versions = $2", pkg, versions)
		removed = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("removing quarantine entry %s: %w", pattern(pkg, versions), err)
	}
	if removed == 0 {
		return fmt.Errorf("quarantine entry %s: %w", pattern(pkg, versions), ErrNotFound)
	}
	return nil
}

func (s *pgStore) Quarantine(ctx context.Context) ([]policy.QuarantineEntry, error) {
	out := []policy.QuarantineEntry{}
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		out = out[:0]
		// COLLATE "C": byte order, the same order SQLite returns, whatever
		// the database's locale.
		rows, err := c.Query(ctx, `SELECT package, versions, reason, added_by, added_at, expires
			FROM quarantine ORDER BY package COLLATE "C", versions COLLATE "C"`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e policy.QuarantineEntry
			var expires *time.Time
			if err := rows.Scan(&e.Package, &e.Versions, &e.Reason, &e.AddedBy, &e.AddedAt, &expires); err != nil {
				return fmt.Errorf("reading a quarantine row: %w", err)
			}
			e.AddedAt = e.AddedAt.UTC()
			if expires != nil {
				e.Expires = expires.UTC()
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing quarantine: %w", err)
	}
	return out, nil
}

func (s *pgStore) Close() error {
	s.pool.close()
	return nil
}
