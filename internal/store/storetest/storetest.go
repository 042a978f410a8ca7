// Package storetest is the conformance suite every store.Store backend
// passes: the same behaviour, tested the same way, whether the store is an
// SQLite file or a PostgreSQL schema.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// Backend describes how to get databases for one implementation.
type Backend struct {
	Name string
	// NewDSN returns the DSN of a new, empty database that is removed when
	// the test ends. It skips the test when the backend is unavailable.
	NewDSN func(t *testing.T) string
	// Exec runs SQL on the database behind dsn directly, bypassing the
	// store, to set up states the store itself would never write.
	Exec func(t *testing.T, dsn, sql string)
	// QueryInt runs a query returning a single integer.
	QueryInt func(t *testing.T, dsn, sql string) int
}

// Run runs the whole suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"DefaultTime", testDefaultTime},
		{"InvalidDownloads", testInvalidDownloads},
		{"Ordering", testOrdering},
		{"Filters", testFilters},
		{"InvalidQueries", testInvalidQueries},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Reopen", testReopen},
		{"MigrationsIdempotent", testMigrationsIdempotent},
		{"NewerSchemaRefused", testNewerSchemaRefused},
		{"Quarantine", testQuarantine},
		{"QuarantineReplace", testQuarantineReplace},
		{"QuarantineInvalid", testQuarantineInvalid},
		{"BatchRecorderFlushOnClose", testBatchFlushOnClose},
		{"BatchRecorderFlush", testBatchFlush},
		{"BatchRecorderConcurrent", testBatchConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, b)
		})
	}
}

// Open opens dsn and closes the store when the test ends.
func Open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

var t0 = time.Date(2025, 9, 8, 13, 0, 0, 0, time.UTC)

// download returns a fully populated record; the fields that vary across
// tests are arguments.
func download(name, version, client string, at time.Time, action policy.Action) store.Download {
	status := 200
	reason := ""
	if action == policy.Block {
		status, reason = 403, "MAL-2025-46974 malicious code"
	}
	return store.Download{
		Time:       at,
		Name:       name,
		Version:    version,
		Integrity:  "sha512-" + name + version,
		Client:     client,
		UserAgent:  "npm/11.6.0 node/v22.19.0 linux x64 workspaces/false ci/github-actions",
		NpmCommand: "ci",
		NpmSession: "8d2f1c0b3a4e5f60",
		NpmScope:   "@acme",
		User:       "builder",
		Action:     action,
		Status:     status,
		Reason:     reason,
	}
}

func record(t *testing.T, s recorder, ds ...store.Download) {
	t.Helper()
	for _, d := range ds {
		if err := s.RecordDownload(t.Context(), d); err != nil {
			t.Fatalf("RecordDownload(%s@%s): %v", d.Name, d.Version, err)
		}
	}
}

func query(t *testing.T, s store.Store, q store.DownloadQuery) []store.Download {
	t.Helper()
	got, err := s.Downloads(t.Context(), q)
	if err != nil {
		t.Fatalf("Downloads(%+v): %v", q, err)
	}
	return got
}

// sameDownload compares everything but the ID, which the store assigns.
func sameDownload(a, b store.Download) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.ID, b.ID = 0, 0
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b
}

func testRoundTrip(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	want := download("@acme/left-pad", "1.3.0-beta.2+build.7", "10.0.0.7:53422", t0.Add(1234567891*time.Nanosecond), policy.Warn)
	want.Reason = "quarantined: \"ünïcode\" 'quotes' ; DROP TABLE downloads; --"
	record(t, s, want)
	got := query(t, s, store.DownloadQuery{})
	if len(got) != 1 {
		t.Fatalf("got %d downloads, want 1", len(got))
	}
	if got[0].ID <= 0 {
		t.Errorf("ID = %d, want a positive id assigned by the store", got[0].ID)
	}
	// Both backends keep microseconds, in UTC.
	want.Time = want.Time.Truncate(time.Microsecond)
	if !sameDownload(got[0], want) {
		t.Errorf("round trip changed the record:\n got %+v\nwant %+v", got[0], want)
	}
	if got[0].Time.Location() != time.UTC {
		t.Errorf("time location %v, want UTC", got[0].Time.Location())
	}
	// A time in another zone comes back as the same instant in UTC.
	other := want
	other.Time = time.Date(2025, 9, 8, 15, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	record(t, s, other)
	got = query(t, s, store.DownloadQuery{Version: other.Version, Since: other.Time})
	if len(got) != 1 || !got[0].Time.Equal(other.Time) || got[0].Time.Location() != time.UTC {
		t.Errorf("zoned time: got %+v", got)
	}
}

func testDefaultTime(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	before := time.Now().Add(-time.Second)
	d := download("debug", "4.4.1", "10.0.0.1", time.Time{}, policy.Allow)
	record(t, s, d)
	got := query(t, s, store.DownloadQuery{})
	if len(got) != 1 || got[0].Time.Before(before) || got[0].Time.After(time.Now().Add(time.Second)) {
		t.Fatalf("a record without a time should be stamped now; got %+v", got)
	}
}

func testInvalidDownloads(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	for _, d := range []store.Download{
		{Version: "1.0.0", Action: policy.Allow},
		{Name: "debug", Action: policy.Allow},
		{Name: "debug", Version: "1.0.0"},
		{Name: "debug", Version: "1.0.0", Action: "maybe"},
	} {
		if err := s.RecordDownload(t.Context(), d); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("RecordDownload(%+v) = %v, want ErrInvalid", d, err)
		}
	}
	if got := query(t, s, store.DownloadQuery{}); len(got) != 0 {
		t.Errorf("invalid records were stored: %+v", got)
	}
}

func testOrdering(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	offsets := []time.Duration{5, 1, 3, 1, 4, 2} // minutes; two share a time
	for i, o := range offsets {
		record(t, s, download("debug", fmt.Sprintf("4.4.%d", i), "10.0.0.1", t0.Add(o*time.Minute), policy.Allow))
	}
	got := query(t, s, store.DownloadQuery{})
	if len(got) != len(offsets) {
		t.Fatalf("got %d downloads, want %d", len(got), len(offsets))
	}
	for i := 1; i < len(got); i++ {
		p, c := got[i-1], got[i]
		if c.Time.Before(p.Time) || (c.Time.Equal(p.Time) && c.ID <= p.ID) {
			t.Errorf("not oldest first (ties by id): %v#%d before %v#%d", p.Time, p.ID, c.Time, c.ID)
		}
	}
	// Equal times keep insertion order: 4.4.1 was written before 4.4.3.
	if got[0].Version != "4.4.1" || got[1].Version != "4.4.3" {
		t.Errorf("ties not in insertion order: %s, %s", got[0].Version, got[1].Version)
	}
}

// seedIncident stores the downloads the filter tests ask about: the
// September 2025 debug compromise seen from a few machines.
func seedIncident(t *testing.T, s store.Store) {
	t.Helper()
	at := func(h, m int) time.Time { return time.Date(2025, 9, 8, h, m, 0, 0, time.UTC) }
	record(t, s,
		download("debug", "4.4.1", "10.0.0.5:40001", at(12, 0), policy.Allow),
		download("debug", "4.4.2", "10.0.0.7:53422", at(13, 16), policy.Allow),
		download("debug", "4.4.2", "10.0.0.71:1234", at(13, 40), policy.Allow),
		download("chalk", "5.6.1", "10.0.0.7:53423", at(14, 0), policy.Block),
		download("debug", "4.4.2", "[2001:db8::1]:443", at(14, 30), policy.Block),
		download("debug", "4.4.2", "10.0.0.7:53999", at(15, 20), policy.Block),
		download("debug", "4.4.3-rc.1", "10.0.0.9", at(15, 45), policy.Warn),
		download("debug", "5.0.0", "10.0.0.9", at(16, 0), policy.Allow),
	)
}

func testFilters(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	seedIncident(t, s)
	at := func(h, m int) time.Time { return time.Date(2025, 9, 8, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name string
		q    store.DownloadQuery
		want []string // name@version client, in order
	}{
		{"all", store.DownloadQuery{}, []string{
			"debug@4.4.1 10.0.0.5:40001", "debug@4.4.2 10.0.0.7:53422", "debug@4.4.2 10.0.0.71:1234", "chalk@5.6.1 10.0.0.7:53423",
			"debug@4.4.2 [2001:db8::1]:443", "debug@4.4.2 10.0.0.7:53999", "debug@4.4.3-rc.1 10.0.0.9", "debug@5.0.0 10.0.0.9"}},
		{"name", store.DownloadQuery{Name: "chalk"}, []string{"chalk@5.6.1 10.0.0.7:53423"}},
		{"unknown name", store.DownloadQuery{Name: "left-pad"}, nil},
		{"exact version", store.DownloadQuery{Name: "debug", Version: "4.4.2"}, []string{
			"debug@4.4.2 10.0.0.7:53422", "debug@4.4.2 10.0.0.71:1234", "debug@4.4.2 [2001:db8::1]:443", "debug@4.4.2 10.0.0.7:53999"}},
		{"exact version written =v", store.DownloadQuery{Name: "debug", Version: "=4.4.1"}, []string{"debug@4.4.1 10.0.0.5:40001"}},
		{"exact prerelease", store.DownloadQuery{Version: "4.4.3-rc.1"}, []string{"debug@4.4.3-rc.1 10.0.0.9"}},
		{"caret range skips prereleases", store.DownloadQuery{Name: "debug", Version: "^4.4.1"}, []string{
			"debug@4.4.1 10.0.0.5:40001", "debug@4.4.2 10.0.0.7:53422", "debug@4.4.2 10.0.0.71:1234", "debug@4.4.2 [2001:db8::1]:443", "debug@4.4.2 10.0.0.7:53999"}},
		{"range with prerelease", store.DownloadQuery{Name: "debug", Version: "^4.4.3-rc.0"}, []string{"debug@4.4.3-rc.1 10.0.0.9"}},
		{"range union", store.DownloadQuery{Name: "debug", Version: "4.4.1 || >=5"}, []string{"debug@4.4.1 10.0.0.5:40001", "debug@5.0.0 10.0.0.9"}},
		{"x-range", store.DownloadQuery{Version: "5.x"}, []string{"chalk@5.6.1 10.0.0.7:53423", "debug@5.0.0 10.0.0.9"}},
		{"since inclusive", store.DownloadQuery{Since: at(15, 20)}, []string{"debug@4.4.2 10.0.0.7:53999", "debug@4.4.3-rc.1 10.0.0.9", "debug@5.0.0 10.0.0.9"}},
		{"until exclusive", store.DownloadQuery{Until: at(13, 16)}, []string{"debug@4.4.1 10.0.0.5:40001"}},
		{"incident window", store.DownloadQuery{Name: "debug", Version: "4.4.2", Since: at(13, 16), Until: at(15, 20)}, []string{
			"debug@4.4.2 10.0.0.7:53422", "debug@4.4.2 10.0.0.71:1234", "debug@4.4.2 [2001:db8::1]:443"}},
		{"action", store.DownloadQuery{Action: policy.Block}, []string{"chalk@5.6.1 10.0.0.7:53423", "debug@4.4.2 [2001:db8::1]:443", "debug@4.4.2 10.0.0.7:53999"}},
		{"client host matches any port, not a longer address", store.DownloadQuery{Client: "10.0.0.7"}, []string{
			"debug@4.4.2 10.0.0.7:53422", "chalk@5.6.1 10.0.0.7:53423", "debug@4.4.2 10.0.0.7:53999"}},
		{"client host and port", store.DownloadQuery{Client: "10.0.0.7:53423"}, []string{"chalk@5.6.1 10.0.0.7:53423"}},
		{"client recorded without port", store.DownloadQuery{Client: "10.0.0.9"}, []string{"debug@4.4.3-rc.1 10.0.0.9", "debug@5.0.0 10.0.0.9"}},
		{"client IPv6", store.DownloadQuery{Client: "2001:db8::1"}, []string{"debug@4.4.2 [2001:db8::1]:443"}},
		{"limit keeps the oldest", store.DownloadQuery{Limit: 2}, []string{"debug@4.4.1 10.0.0.5:40001", "debug@4.4.2 10.0.0.7:53422"}},
		{"limit applies after the range", store.DownloadQuery{Version: ">=4.4.2", Limit: 2}, []string{"debug@4.4.2 10.0.0.7:53422", "debug@4.4.2 10.0.0.71:1234"}},
		{"limit above the count", store.DownloadQuery{Name: "chalk", Limit: 10}, []string{"chalk@5.6.1 10.0.0.7:53423"}},
		{"everything at once", store.DownloadQuery{Name: "debug", Version: "4.4.x", Since: at(13, 0), Until: at(16, 0), Action: policy.Block, Client: "10.0.0.7", Limit: 5}, []string{
			"debug@4.4.2 10.0.0.7:53999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range query(t, s, tt.q) {
				got = append(got, d.Name+"@"+d.Version+" "+d.Client)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Downloads(%+v)\n got %q\nwant %q", tt.q, got, tt.want)
			}
		})
	}
}

func testInvalidQueries(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	for _, q := range []store.DownloadQuery{
		{Version: "not a range at all!"},
		{Since: t0, Until: t0},
		{Since: t0, Until: t0.Add(-time.Hour)},
		{Limit: -1},
		{Action: "explode"},
	} {
		if _, err := s.Downloads(t.Context(), q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Downloads(%+v) = %v, want ErrInvalid", q, err)
		}
	}
}

func testConcurrentWriters(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d := download(fmt.Sprintf("pkg-%d", w), fmt.Sprintf("1.0.%d", i), "10.0.0.1", t0.Add(time.Duration(i)*time.Second), policy.Allow)
				if err := s.RecordDownload(context.Background(), d); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Readers run alongside: WAL (SQLite) and MVCC (PostgreSQL) must not
	// make them fail or block the writers.
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.Downloads(context.Background(), store.DownloadQuery{Name: "pkg-1"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := query(t, s, store.DownloadQuery{})
	if len(got) != writers*each {
		t.Fatalf("got %d downloads, want %d", len(got), writers*each)
	}
	ids := map[int64]bool{}
	seen := map[string]bool{}
	for _, d := range got {
		if ids[d.ID] {
			t.Errorf("duplicate id %d", d.ID)
		}
		ids[d.ID] = true
		seen[d.Name+"@"+d.Version] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct records, want %d", len(seen), writers*each)
	}
}

func testReopen(t *testing.T, b Backend) {
	dsn := b.NewDSN(t)
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	d := download("debug", "4.4.2", "10.0.0.7:1", t0, policy.Block)
	e := policy.QuarantineEntry{Package: "debug", Versions: "4.4.2", Reason: "compromised", AddedBy: "sec", AddedAt: t0, Expires: t0.Add(72 * time.Hour)}
	record(t, s, d)
	if err := s.AddQuarantine(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = Open(t, dsn)
	got := query(t, s, store.DownloadQuery{})
	if len(got) != 1 || !sameDownload(got[0], d) {
		t.Errorf("after re-open: %+v, want %+v", got, d)
	}
	q, err := s.Quarantine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || !sameEntry(q[0], e) {
		t.Errorf("quarantine after re-open: %+v, want %+v", q, e)
	}
}

func testMigrationsIdempotent(t *testing.T, b Backend) {
	dsn := b.NewDSN(t)
	for range 3 {
		s, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Two opens at once on a database that is new: one migrates, the other
	// waits and finds nothing to do.
	fresh := b.NewDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			s, err := store.Open(context.Background(), fresh)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	for _, d := range []string{dsn, fresh} {
		want := store.SchemaVersion(backendOf(t, d))
		if n := b.QueryInt(t, d, "SELECT COUNT(*) FROM schema_version"); n != want {
			t.Errorf("schema_version has %d rows, want %d (one per migration)", n, want)
		}
		if v := b.QueryInt(t, d, "SELECT MAX(version) FROM schema_version"); v != want {
			t.Errorf("schema version %d, want %d", v, want)
		}
	}
}

func backendOf(t *testing.T, dsn string) store.Backend {
	d, err := store.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return d.Backend
}

func testNewerSchemaRefused(t *testing.T, b Backend) {
	dsn := b.NewDSN(t)
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	record(t, s, download("debug", "4.4.2", "10.0.0.7", t0, policy.Allow))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	known := store.SchemaVersion(backendOf(t, dsn))
	b.Exec(t, dsn, fmt.Sprintf("INSERT INTO schema_version (version) VALUES (%d)", known+1))
	s, err = store.Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database from a newer vigil")
	}
	var se *store.SchemaError
	if !errors.Is(err, store.ErrSchemaTooNew) || !errors.As(err, &se) || se.Have != known+1 || se.Known != known {
		t.Fatalf("Open = %v, want a SchemaError{Have: %d, Known: %d}", err, known+1, known)
	}
	// Refusing must not have touched the data.
	if n := b.QueryInt(t, dsn, "SELECT COUNT(*) FROM downloads"); n != 1 {
		t.Errorf("downloads: %d rows after the refused open, want 1", n)
	}
}

func sameEntry(a, b policy.QuarantineEntry) bool {
	return a.Package == b.Package && a.Versions == b.Versions && a.Reason == b.Reason && a.AddedBy == b.AddedBy &&
		a.AddedAt.Equal(b.AddedAt) && a.Expires.Equal(b.Expires) && a.Expires.IsZero() == b.Expires.IsZero()
}

func quarantine(t *testing.T, s store.Store) []policy.QuarantineEntry {
	t.Helper()
	q, err := s.Quarantine(t.Context())
	if err != nil {
		t.Fatalf("Quarantine: %v", err)
	}
	return q
}

func patterns(q []policy.QuarantineEntry) []string {
	var out []string
	for _, e := range q {
		out = append(out, e.Package+"@"+e.Versions)
	}
	return out
}

func testQuarantine(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	ctx := t.Context()
	if q := quarantine(t, s); len(q) != 0 {
		t.Fatalf("new store has quarantine entries: %+v", q)
	}
	entries := []policy.QuarantineEntry{
		{Package: "debug", Versions: "4.4.2", Reason: "MAL-2025-46974", AddedBy: "sec", AddedAt: t0, Expires: t0.Add(30 * 24 * time.Hour)},
		{Package: "debug", Reason: "whole package held back", AddedAt: t0.Add(time.Minute)},
		{Package: "@evil/*", Reason: "scope taken over", AddedBy: "sec", AddedAt: t0},
		{Package: "chalk", Versions: ">=5.6.1 <5.6.2", Reason: "compromised", AddedAt: t0, Expires: t0.Add(-time.Hour)},
		{Package: "Zebra", Versions: "1.x", Reason: "legacy upper-case name", AddedAt: t0},
		{Package: "debug", Versions: "4.4.10", Reason: "sorts by bytes", AddedAt: t0},
	}
	for _, e := range entries {
		if err := s.AddQuarantine(ctx, e); err != nil {
			t.Fatalf("AddQuarantine(%+v): %v", e, err)
		}
	}
	got := quarantine(t, s)
	// Byte order, the same on both backends whatever PostgreSQL's locale:
	// '@' < upper case < lower case; "" < "4.4.10" < "4.4.2".
	want := []string{"@evil/*@", "Zebra@1.x", "chalk@>=5.6.1 <5.6.2", "debug@", "debug@4.4.10", "debug@4.4.2"}
	if !slices.Equal(patterns(got), want) {
		t.Fatalf("Quarantine order\n got %q\nwant %q", patterns(got), want)
	}
	// Expired entries are listed too; callers decide what expiry means.
	for _, e := range entries {
		i := slices.IndexFunc(got, func(g policy.QuarantineEntry) bool { return g.Package == e.Package && g.Versions == e.Versions })
		if !sameEntry(got[i], e) {
			t.Errorf("entry changed in the store:\n got %+v\nwant %+v", got[i], e)
		}
	}
	// Removing the range entry leaves the whole-package one.
	if err := s.RemoveQuarantine(ctx, "debug", "4.4.2"); err != nil {
		t.Fatalf("RemoveQuarantine: %v", err)
	}
	if err := s.RemoveQuarantine(ctx, "debug", "4.4.2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing twice = %v, want ErrNotFound", err)
	}
	if err := s.RemoveQuarantine(ctx, "debug", "^4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing a range never added = %v, want ErrNotFound", err)
	}
	if err := s.RemoveQuarantine(ctx, "debug", ""); err != nil {
		t.Fatalf("RemoveQuarantine(whole package): %v", err)
	}
	want = []string{"@evil/*@", "Zebra@1.x", "chalk@>=5.6.1 <5.6.2", "debug@4.4.10"}
	if got := patterns(quarantine(t, s)); !slices.Equal(got, want) {
		t.Errorf("after removals\n got %q\nwant %q", got, want)
	}
}

func testQuarantineReplace(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	ctx := t.Context()
	first := policy.QuarantineEntry{Package: "debug", Versions: "4.4.2", Reason: "suspected", AddedBy: "a", AddedAt: t0, Expires: t0.Add(time.Hour)}
	second := policy.QuarantineEntry{Package: "debug", Versions: " 4.4.2 ", Reason: "confirmed", AddedBy: "b", AddedAt: t0.Add(time.Minute)}
	for _, e := range []policy.QuarantineEntry{first, second} {
		if err := s.AddQuarantine(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := quarantine(t, s)
	second.Versions = "4.4.2" // surrounding space is not part of the key
	if len(got) != 1 || !sameEntry(got[0], second) {
		t.Fatalf("re-adding should replace (expiry cleared too):\n got %+v\nwant %+v", got, second)
	}
	// A zero AddedAt is stamped with the current time.
	if err := s.AddQuarantine(ctx, policy.QuarantineEntry{Package: "left-pad", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range quarantine(t, s) {
		if e.Package == "left-pad" && time.Since(e.AddedAt) > time.Minute {
			t.Errorf("AddedAt not stamped: %v", e.AddedAt)
		}
	}
}

func testQuarantineInvalid(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	for _, e := range []policy.QuarantineEntry{
		{Package: "", Reason: "r"},
		{Package: "has space", Reason: "r"},
		{Package: "@scope", Reason: "r"},
		{Package: "@/*", Reason: "r"},
		{Package: "debug", Versions: "not ! a range", Reason: "r"},
	} {
		if err := s.AddQuarantine(t.Context(), e); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddQuarantine(%+v) = %v, want ErrInvalid", e, err)
		}
	}
	if q := quarantine(t, s); len(q) != 0 {
		t.Errorf("invalid entries stored: %+v", q)
	}
}

func testBatchFlushOnClose(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	// Neither the size nor the delay triggers a flush: only Close can.
	r := store.NewBatchRecorder(s, store.BatchOptions{MaxBatch: 1 << 20, MaxDelay: time.Hour})
	const n = 1000
	for i := range n {
		if err := r.RecordDownload(t.Context(), download("debug", fmt.Sprintf("1.0.%d", i), "10.0.0.1", t0.Add(time.Duration(i)*time.Millisecond), policy.Allow)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := query(t, s, store.DownloadQuery{})
	if len(got) != n {
		t.Fatalf("after Close: %d downloads, want %d", len(got), n)
	}
	for i, d := range got {
		if d.Version != fmt.Sprintf("1.0.%d", i) {
			t.Fatalf("download %d is %s, want 1.0.%d (order lost)", i, d.Version, i)
		}
	}
	if err := r.RecordDownload(t.Context(), download("debug", "9.9.9", "x", t0, policy.Allow)); err == nil {
		t.Error("RecordDownload after Close succeeded")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testBatchFlush(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	r := store.NewBatchRecorder(s, store.BatchOptions{MaxBatch: 1 << 20, MaxDelay: time.Hour})
	defer r.Close()
	record(t, r, download("debug", "4.4.2", "10.0.0.7", t0, policy.Block))
	if got := query(t, s, store.DownloadQuery{}); len(got) != 0 {
		t.Fatalf("written before any flush trigger: %+v", got)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := query(t, s, store.DownloadQuery{}); len(got) != 1 {
		t.Fatalf("after Flush: %d downloads, want 1", len(got))
	}
	if err := r.RecordDownload(t.Context(), store.Download{Name: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("invalid record queued: %v", err)
	}
	// The delay flushes on its own.
	fast := store.NewBatchRecorder(s, store.BatchOptions{MaxDelay: 10 * time.Millisecond})
	defer fast.Close()
	record(t, fast, download("chalk", "5.6.1", "10.0.0.7", t0, policy.Block))
	deadline := time.Now().Add(10 * time.Second)
	for len(query(t, s, store.DownloadQuery{Name: "chalk"})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("MaxDelay never flushed the batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is what the helpers above need from a Store or a BatchRecorder.
type recorder interface {
	RecordDownload(ctx context.Context, d store.Download) error
}

var (
	_ recorder = store.Store(nil)
	_ recorder = (*store.BatchRecorder)(nil)
)

func testBatchConcurrent(t *testing.T, b Backend) {
	s := Open(t, b.NewDSN(t))
	r := store.NewBatchRecorder(s, store.BatchOptions{MaxBatch: 64, Queue: 16})
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := r.RecordDownload(context.Background(), download(fmt.Sprintf("p%d", w), fmt.Sprintf("1.0.%d", i), "c", t0, policy.Allow)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := query(t, s, store.DownloadQuery{}); len(got) != writers*each {
		t.Fatalf("%d downloads, want %d", len(got), writers*each)
	}
}
