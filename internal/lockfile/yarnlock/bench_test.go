package yarnlock

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml/parser"
)

// benchFile is the corpus lockfile of the given dialect, or its smaller
// copy in testdata when the corpus is absent.
func benchFile(b *testing.B, dialect string) []byte {
	b.Helper()
	for _, f := range []string{
		filepath.Join(corpusDir, "monorepo-large", dialect, "yarn.lock"),
		filepath.Join("testdata", "webapp-medium", dialect, "yarn.lock"),
	} {
		if data, err := os.ReadFile(f); err == nil {
			b.Logf("%s: %d bytes", f, len(data))
			return data
		}
	}
	b.Skip("no lockfile to measure")
	return nil
}

func BenchmarkParse(b *testing.B) {
	for _, dialect := range []string{"yarn-v1", "yarn-berry"} {
		b.Run(dialect, func(b *testing.B) {
			data := benchFile(b, dialect)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Reader{}).Parse(context.Background(), "yarn.lock", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGoccyAST measures what only building goccy/go-yaml's AST of a
// Berry lockfile costs, the alternative to this package's line reader (see
// berry.go).
func BenchmarkGoccyAST(b *testing.B) {
	data := benchFile(b, "yarn-berry")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.ParseBytes(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}
