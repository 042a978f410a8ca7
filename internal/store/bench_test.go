package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// Benchmarks (docs/store.md has the numbers):
//
//	go test ./internal/store -run '^$' -bench . -benchtime 2000x
//
// PostgreSQL benchmarks skip when the server is unreachable.

type benchBackend struct {
	name   string
	newDSN func(b *testing.B) string
}

var benchBackends = []benchBackend{
	{"sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "bench.db") }},
	{"sqlite-normal", func(b *testing.B) string {
		return "sqlite://" + filepath.Join(b.TempDir(), "bench.db") + "?synchronous=normal"
	}},
	{"postgres", func(b *testing.B) string { return newSchemaDSN(b) }},
}

func benchOpen(b *testing.B, dsn string) store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchDownload(i int) store.Download {
	return store.Download{
		Time:       time.Date(2025, 9, 8, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 2591 * time.Millisecond),
		Name:       fmt.Sprintf("pkg-%d", i%1000),
		Version:    fmt.Sprintf("%d.%d.%d", i%7, i%13, i%5),
		Integrity:  "sha512-KcKCqiftBJcZr++7ykoDIEwSa3XWowTfNPo92BYxjXiyYEVrUQh2aLyhxBCwww+heortUFxEJYcRgP/aKaRWXA==",
		Client:     fmt.Sprintf("10.0.%d.%d:%d", i%4, i%250, 40000+i%20000),
		UserAgent:  "npm/11.6.0 node/v22.19.0 linux x64 workspaces/false ci/github-actions",
		NpmCommand: "ci",
		NpmSession: "8d2f1c0b3a4e5f60",
		Action:     policy.Allow,
		Status:     200,
	}
}

// BenchmarkRecordDownload: one record per op, committed before the call
// returns (direct), or queued and written in batches (batch; the final
// Close is inside the timing, so ns/op includes the commit).
func BenchmarkRecordDownload(b *testing.B) {
	for _, bb := range benchBackends {
		b.Run(bb.name+"/direct", func(b *testing.B) {
			s := benchOpen(b, bb.newDSN(b))
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if err := s.RecordDownload(ctx, benchDownload(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/direct-parallel", func(b *testing.B) {
			s := benchOpen(b, bb.newDSN(b))
			ctx := context.Background()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := s.RecordDownload(ctx, benchDownload(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(bb.name+"/batch", func(b *testing.B) {
			s := benchOpen(b, bb.newDSN(b))
			ctx := context.Background()
			r := store.NewBatchRecorder(s, store.BatchOptions{})
			b.ResetTimer()
			for i := range b.N {
				if err := r.RecordDownload(ctx, benchDownload(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkDownloadsQuery asks the incident question of a store holding
// 1,000,000 downloads (1,000 packages over 30 days): one package in a
// one-day window (about 33 rows, the name+time index), one package over
// all time (1,000 rows), and the same with an npm range filtered in Go.
func BenchmarkDownloadsQuery(b *testing.B) {
	const rows = 1_000_000
	for _, bb := range benchBackends {
		if bb.name == "sqlite-normal" {
			continue
		}
		b.Run(bb.name, func(b *testing.B) {
			dsn := bb.newDSN(b)
			seed(b, dsn, rows)
			s := benchOpen(b, dsn)
			day := time.Date(2025, 9, 20, 0, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				name string
				q    store.DownloadQuery
			}{
				{"name+day", store.DownloadQuery{Name: "pkg-421", Since: day, Until: day.Add(24 * time.Hour)}},
				{"name", store.DownloadQuery{Name: "pkg-421"}},
				{"name+range", store.DownloadQuery{Name: "pkg-421", Version: "^3.1.0"}},
				{"name+exact", store.DownloadQuery{Name: "pkg-421", Version: "3.5.1"}},
			} {
				b.Run(q.name, func(b *testing.B) {
					ctx := context.Background()
					total := 0
					b.ResetTimer()
					for range b.N {
						got, err := s.Downloads(ctx, q.q)
						if err != nil {
							b.Fatal(err)
						}
						total += len(got)
					}
					b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
					b.ReportMetric(float64(total)/float64(b.N), "rows/op")
				})
			}
		})
	}
}

// seed writes n downloads into the store at dsn and refreshes the
// planner's statistics, as autovacuum (PostgreSQL) or PRAGMA optimize at
// close (SQLite) would have on a store that grew over time.
func seed(b *testing.B, dsn string, n int) {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	w := s.(store.BatchWriter)
	start := time.Now()
	const chunk = 20_000
	batch := make([]store.Download, 0, chunk)
	for i := range n {
		batch = append(batch, benchDownload(i))
		if len(batch) == chunk || i == n-1 {
			if err := w.RecordDownloads(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if d, err := store.ParseDSN(dsn); err == nil && d.Backend == store.Postgres {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "ANALYZE downloads"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d rows in %v (%.0f rows/s)", n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
}
