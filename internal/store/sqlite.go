package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vigil-sec/vigil/internal/policy"
)

// sqliteStore keeps the store in one SQLite file in WAL mode. All writes
// go through a single connection: SQLite admits one writer at a time
// anyway, and queueing writers in Go (database/sql's pool) is cheaper and
// fairer than having them spin on SQLITE_BUSY. Reads use a pool of
// query-only connections, which WAL lets run alongside the writer.
// busy_timeout covers the remaining contention: another process (a CLI
// next to a running proxy) writing the same file.
type sqliteStore struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	insert *sql.Stmt
	now    func() time.Time
}

const sqliteBusyTimeoutMS = 10_000

const downloadColumns = "name, version, integrity, client, user_agent, npm_command, npm_session, npm_scope, username, action, status, reason"

func openSQLite(ctx context.Context, d DSN) (_ *sqliteStore, err error) {
	if err := createPrivate(d.Path); err != nil {
		return nil, err
	}
	uri := sqliteURI(d.Path)
	// synchronous=FULL (the default) syncs the WAL on every commit, so an
	// acknowledged write survives power loss as well as kill -9; NORMAL
	// survives kill -9 (the WAL is in the OS's page cache once write(2)
	// returns) but may lose the last commits on power loss. See docs/store.md.
	writeParams := fmt.Sprintf("_busy_timeout=%d&_journal_mode=WAL&_synchronous=%s&_foreign_keys=1&_txlock=immediate",
		sqliteBusyTimeoutMS, strings.ToUpper(d.Synchronous))
	s := &sqliteStore{path: d.Path, now: time.Now}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.write, err = sql.Open("sqlite", uri+"?"+writeParams)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite store %s: %w", d.Path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("SQLite store %s: %w", d.Path, err)
	}
	s.read, err = sql.Open("sqlite", uri+fmt.Sprintf("?_busy_timeout=%d&_query_only=1&_foreign_keys=1", sqliteBusyTimeoutMS))
	if err != nil {
		return nil, fmt.Errorf("opening SQLite store %s for reading: %w", d.Path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)
	s.insert, err = s.write.PrepareContext(ctx, "INSERT INTO downloads (time_us, "+downloadColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return nil, fmt.Errorf("SQLite store %s: preparing the insert: %w", d.Path, err)
	}
	return s, nil
}

// createPrivate makes the database's folder and file readable by the
// owner only before SQLite opens it (the download log names machines and
// users); SQLite gives the -wal and -shm files the same permissions.
func createPrivate(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating the store folder: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening SQLite store: %w", err)
	}
	return f.Close()
}

// sqliteURI turns a path into an SQLite "file:" URI, escaping the
// characters a URI gives meaning to, so paths with '?' or '#' open the
// file they name.
func sqliteURI(path string) string {
	p := filepath.ToSlash(path)
	if v := filepath.VolumeName(path); v != "" {
		p = "/" + p // file:/C:/x, as SQLite expects on Windows
	}
	var b strings.Builder
	b.WriteString("file:")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '?', '#', '%':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (s *sqliteStore) migrate(ctx context.Context) error {
	ms, err := migrations(SQLite)
	if err != nil {
		return err
	}
	// _txlock=immediate: BEGIN takes the write lock, so two processes
	// opening a new file at once migrate one after the other.
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting the migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`); err != nil {
		return fmt.Errorf("creating schema_version: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("reading schema_version: %w", err)
	}
	todo, err := pending(ms, have)
	if err != nil {
		return err
	}
	for _, m := range todo {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (?)", m.version); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing the migration: %w", err)
	}
	return nil
}

func (s *sqliteStore) RecordDownload(ctx context.Context, d Download) error {
	if err := checkDownload(&d, s.now()); err != nil {
		return err
	}
	if _, err := s.insert.ExecContext(ctx, downloadArgs(&d)...); err != nil {
		return fmt.Errorf("recording download of %s@%s: %w", d.Name, d.Version, err)
	}
	return nil
}

// RecordDownloads writes ds in one transaction: one commit, one fsync.
func (s *sqliteStore) RecordDownloads(ctx context.Context, ds []Download) error {
	now := s.now()
	for i := range ds {
		if err := checkDownload(&ds[i], now); err != nil {
			return err
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording %d downloads: %w", len(ds), err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.insert)
	for i := range ds {
		if _, err := stmt.ExecContext(ctx, downloadArgs(&ds[i])...); err != nil {
			return fmt.Errorf("recording download of %s@%s: %w", ds[i].Name, ds[i].Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing %d downloads: %w", len(ds), err)
	}
	return nil
}

func downloadArgs(d *Download) []any {
	return []any{microseconds(d.Time), d.Name, d.Version, d.Integrity, d.Client, d.UserAgent,
		d.NpmCommand, d.NpmSession, d.NpmScope, d.User, string(d.Action), d.Status, d.Reason}
}

func (s *sqliteStore) Downloads(ctx context.Context, q DownloadQuery) ([]Download, error) {
	f, err := newDownloadFilter(q)
	if err != nil {
		return nil, err
	}
	where, args := f.where(sqliteDialect)
	query := "SELECT id, time_us, " + downloadColumns + " FROM downloads" + where + " ORDER BY time_us, id"
	if n := f.sqlLimit(); n > 0 {
		query += fmt.Sprintf(" LIMIT %d", n)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying downloads: %w", err)
	}
	defer rows.Close()
	out := []Download{}
	for !f.full(len(out)) && rows.Next() {
		var d Download
		var us int64
		var action string
		if err := rows.Scan(&d.ID, &us, &d.Name, &d.Version, &d.Integrity, &d.Client, &d.UserAgent,
			&d.NpmCommand, &d.NpmSession, &d.NpmScope, &d.User, &action, &d.Status, &d.Reason); err != nil {
			return nil, fmt.Errorf("reading a download row: %w", err)
		}
		d.Time, d.Action = fromMicroseconds(us), policy.Action(action)
		if f.keep(&d) {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying downloads: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) AddQuarantine(ctx context.Context, e policy.QuarantineEntry) error {
	if err := checkQuarantine(&e, s.now()); err != nil {
		return err
	}
	var expires any
	if !e.Expires.IsZero() {
		expires = microseconds(e.Expires)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO quarantine (package, versions, reason, added_by, added_at_us, expires_us)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (package, versions) DO UPDATE SET reason = excluded.reason, added_by = excluded.added_by,
			added_at_us = excluded.added_at_us, expires_us = excluded.expires_us`,
		e.Package, e.Versions, e.Reason, e.AddedBy, microseconds(e.AddedAt), expires)
	if err != nil {
		return fmt.Errorf("adding quarantine entry %s: %w", pattern(e.Package, e.Versions), err)
	}
	return nil
}

func (s *sqliteStore) RemoveQuarantine(ctx context.Context, pkg, versions string) error {
	res, err := s.write.ExecContext(ctx, "DELETE FROM quarantine WHERE package = ? AND versions = ?",
		strings.TrimSpace(pkg), strings.TrimSpace(versions))
	if err != nil {
		return fmt.Errorf("removing quarantine entry %s: %w", pattern(pkg, versions), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("removing quarantine entry %s: %w", pattern(pkg, versions), err)
	}
	if n == 0 {
		return fmt.Errorf("quarantine entry %s: %w", pattern(pkg, versions), ErrNotFound)
	}
	return nil
}

func (s *sqliteStore) Quarantine(ctx context.Context) ([]policy.QuarantineEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT package, versions, reason, added_by, added_at_us, expires_us
		FROM quarantine ORDER BY package, versions`)
	if err != nil {
		return nil, fmt.Errorf("listing quarantine: %w", err)
	}
	defer rows.Close()
	out := []policy.QuarantineEntry{}
	for rows.Next() {
		var e policy.QuarantineEntry
		var added int64
		var expires sql.NullInt64
		if err := rows.Scan(&e.Package, &e.Versions, &e.Reason, &e.AddedBy, &added, &expires); err != nil {
			return nil, fmt.Errorf("reading a quarantine row: %w", err)
		}
		e.AddedAt = fromMicroseconds(added)
		if expires.Valid {
			e.Expires = fromMicroseconds(expires.Int64)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing quarantine: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) Close() error {
	var errs []error
	if s.insert != nil {
		errs = append(errs, s.insert.Close())
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		// SQLite has no background statistics: "PRAGMA optimize" before
		// closing is its documented way to keep query plans good as the
		// log grows. It is cheap when nothing changed; best effort.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = s.write.ExecContext(ctx, "PRAGMA optimize")
		cancel()
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing SQLite store %s: %w", s.path, err)
	}
	return nil
}

// pattern renders a quarantine key for messages: debug, debug@^4.
func pattern(pkg, versions string) string {
	if versions == "" {
		return pkg
	}
	return pkg + "@" + versions
}
