// Package store keeps what Vigil must remember across runs and machines:
// who downloaded which package version through the proxy, and the local
// quarantine list. Store is an interface with two implementations, SQLite
// (embedded, the default) and PostgreSQL (shared by several proxies), and
// one set of tests runs against both.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
)

// ErrNotFound is returned when an entry to remove or read does not exist.
var ErrNotFound = errors.New("not found")

// Store is the persistence Vigil's commands share. Implementations are
// safe for concurrent use and survive a crash (kill -9) without losing a
// committed write.
type Store interface {
	// RecordDownload appends one tarball download.
	RecordDownload(ctx context.Context, d Download) error
	// Downloads lists the downloads matching q, oldest first.
	Downloads(ctx context.Context, q DownloadQuery) ([]Download, error)

	// AddQuarantine adds an entry, or replaces the entry with the same
	// Package and Versions.
	AddQuarantine(ctx context.Context, e policy.QuarantineEntry) error
	// RemoveQuarantine removes the entry with that Package and Versions
	// (Versions "" is the whole-package entry); ErrNotFound when absent.
	RemoveQuarantine(ctx context.Context, pkg, versions string) error
	// Quarantine lists every entry, expired ones included (callers decide
	// what expiry means), ordered by Package then Versions.
	Quarantine(ctx context.Context) ([]policy.QuarantineEntry, error)

	Close() error
}

// Download is one tarball request the proxy answered (or refused).
type Download struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Name    string    `json:"name"`
	Version string    `json:"version"`
	// Integrity is the SRI of the bytes served (empty when refused).
	Integrity string `json:"integrity,omitempty"`
	// Client is the remote address; UserAgent the client's User-Agent
	// ("npm/11.6.0 node/v20… workspaces/false ci/github-actions").
	Client    string `json:"client"`
	UserAgent string `json:"user_agent,omitempty"`
	// NpmCommand, NpmSession and NpmScope are npm's npm-command,
	// npm-session and npm-scope request headers, when sent.
	NpmCommand string `json:"npm_command,omitempty"`
	NpmSession string `json:"npm_session,omitempty"`
	NpmScope   string `json:"npm_scope,omitempty"`
	// User is the authenticated user when the proxy knows one.
	User string `json:"user,omitempty"`
	// Action is the policy decision applied (allow, warn, block); Status
	// the HTTP status sent; Reason a one-line summary for warn/block.
	Action policy.Action `json:"action"`
	Status int           `json:"status"`
	Reason string        `json:"reason,omitempty"`
}

// DownloadQuery filters downloads; zero fields match everything.
type DownloadQuery struct {
	Name string
	// Version is an exact version or an npm range; empty matches all.
	Version string
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	Action  policy.Action
	Client  string
	// Limit caps the result (0: no cap).
	Limit int
}
