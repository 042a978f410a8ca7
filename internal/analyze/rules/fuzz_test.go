package rules

import (
	"context"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// FuzzRules runs every rule over arbitrary bytes used as a JavaScript
// file, a shell script, a binary-looking file, the tarball's package.json
// and the registry's manifest: rules scan raw bytes (bidi pairing, string
// spans, script lines, config.sh lines), and none may panic or point
// outside the file it names.
func FuzzRules(f *testing.F) {
	seeds := []string{
		"if (a != 'user\u202e \u2066// x\u2069 \u2066') {}\nconst {t,\u3164} = q; e(\u3164)\n",
		"const is\u200bAdmin = 1; function isАdmin(){}\n",
		"require('child_process').execSync(`./config.sh --url https://github.com/${o} --token ${t}`)",
		`{"name":"x","version":"1.0.0","scripts":{"postinstall":"npm publish"},"bin":"./a","os":"linux"}`,
		"pkg.scripts.postinstall = 'x'; fs.writeFileSync('package.json', s)",
		"'\u202b", "`${a}\u3164`", "\x7fELF",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files := []facts.File{
			{Path: "a.js", Data: data},
			{Path: "b.sh", Data: data},
			{Path: "package.json", Data: data},
		}
		p, err := facts.Extract(context.Background(), files, facts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reg := facts.ParseManifest(data)
		p.Registry = &reg
		for _, r := range All() {
			for _, fd := range r.Run(p) {
				if ff := p.File(fd.File); ff != nil && fd.Line > 0 && (fd.Line > len(ff.Data)+1 || fd.Col < 0) {
					t.Fatalf("%s: position %d:%d outside %s", r.ID, fd.Line, fd.Col, fd.File)
				}
			}
		}
	})
}
