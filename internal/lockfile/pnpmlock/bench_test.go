package pnpmlock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse reads the largest pnpm lockfile at hand: the 1.2 MB corpus
// monorepo when ../shared is present, the committed webapp-medium copy
// otherwise.
func BenchmarkParse(b *testing.B) {
	file := filepath.Join(corpusDir, "monorepo-large", "pnpm", "pnpm-lock.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		file = filepath.Join("testdata", "webapp-medium", "pnpm-lock.yaml")
		if data, err = os.ReadFile(file); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := parseFast(string(data)); err != nil {
		b.Fatalf("%s needs the yaml/v3 fallback: %v", file, err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Reader{}).Parse(context.Background(), file, data); err != nil {
			b.Fatal(err)
		}
	}
}
