package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures whole-file parsing, edges included. The 2 MB,
// 3,600-entry monorepo lockfile of the shared corpus is the budget case
// (vigil scan has 100 ms in all); it is too big to copy into testdata, so
// that case runs only where the corpus is.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name, file string
		minify     bool
	}{
		{"webapp-v1-300KB", "testdata/webapp-medium-v1/package-lock.json", false},
		{"webapp-v3-400KB", "testdata/webapp-medium-v3/package-lock.json", false},
		{"webapp-v3-minified", "testdata/webapp-medium-v3/package-lock.json", true},
		{"monorepo-v3-2MB", filepath.Join(corpusDir, "monorepo-large", "npm-v3", "package-lock.json"), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data, err := os.ReadFile(bc.file)
			if err != nil {
				b.Skipf("%v (the corpus lives in ../shared beside the repository)", err)
			}
			if bc.minify {
				var buf bytes.Buffer
				if err := json.Compact(&buf, data); err != nil {
					b.Fatal(err)
				}
				data = buf.Bytes()
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := (Reader{}).Parse(ctx, bc.file, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
