package sbom

import (
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

var valueRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null|\[|\{`)

func TestZZMutate(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	repl := []string{`1`, `null`, `{}`, `[]`, `[null]`, `{"a":1}`, `"x"`, `"pkg:npm/@"`, `"pkg:npm/a@1@2"`, `""`, `[{"alg":"SHA-1","content":"00"}]`, `"SPDXRef-DOCUMENT"`, `"\u0000"`, `-0`, `1e999`, `"pkg:npm/%zz"`, `"pkg:npm/a?vcs_url=%"`}
	rng := rand.New(rand.NewSource(1))
	n := 0
	for iter := 0; iter < 60000; iter++ {
		f := files[rng.Intn(len(files))]
		data, _ := os.ReadFile(f)
		s := string(data)
		locs := valueRE.FindAllStringIndex(s, -1)
		for k := 0; k < 1+rng.Intn(3); k++ {
			l := locs[rng.Intn(len(locs))]
			end := l[1]
			if s[l[0]] == '[' || s[l[0]] == '{' {
				end = l[0] + 1 // replace just the bracket: breaks structure sometimes
				if rng.Intn(2) == 0 {
					continue
				}
			}
			s = s[:l[0]] + repl[rng.Intn(len(repl))] + s[end:]
			locs = valueRE.FindAllStringIndex(s, -1)
		}
		var r lockfile.Reader = CycloneDXReader{}
		if strings.HasSuffix(f, ".spdx.json") {
			r = SPDXReader{}
		}
		if rng.Intn(4) == 0 { // cross-feed
			if _, ok := r.(SPDXReader); ok {
				r = CycloneDXReader{}
			} else {
				r = SPDXReader{}
			}
		}
		fuzzReader(t, r, []byte(s))
		n++
	}
	t.Logf("%d mutated documents", n)
}
