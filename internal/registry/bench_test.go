package registry

import (
	"os"
	"testing"
)

// BenchmarkParsePackument decodes a packument: the fixture by default, or
// the file named by VIGIL_BENCH_PACKUMENT (e.g. a saved copy of
// https://registry.npmjs.org/next, ~20 MB) for a realistic size.
func BenchmarkParsePackument(b *testing.B) {
	name := os.Getenv("VIGIL_BENCH_PACKUMENT")
	var data []byte
	var err error
	if name == "" {
		data = readFixture(b, "mirror/is-number.json")
	} else if data, err = os.ReadFile(name); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePackument(data); err != nil {
			b.Fatal(err)
		}
	}
}
