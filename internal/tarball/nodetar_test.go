package tarball

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nodeScript lists each tarball with node-tar and extracts it with the
// options pacote (npm's fetcher) uses, then prints what npm would install.
const nodeScript = `
const tar = require(process.env.VIGIL_NODE_TAR);
const fs = require('fs'), path = require('path'), os = require('os');
function walk(d, base) {
  let out = [];
  for (const e of fs.readdirSync(d, {withFileTypes: true})) {
    const p = base ? base + '/' + e.name : e.name;
    if (e.isDirectory()) out = out.concat(walk(path.join(d, e.name), p));
    else out.push(p + '=' + fs.readFileSync(path.join(d, e.name), 'utf8'));
  }
  return out;
}
const results = {};
for (const f of process.argv.slice(1)) { // node -e: argv[1] is the first argument
  const listed = [];
  tar.t({file: f, sync: true, onwarn: () => {}, onReadEntry: e => listed.push(e.type + ' ' + e.path)});
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-'));
  tar.x({file: f, sync: true, cwd: dest, strip: 1, noChmod: true, noMtime: true, preserveOwner: false, onwarn: () => {},
    filter: (name, entry) => { if (/Link$/.test(entry.type)) return false; if (/File$/.test(entry.type)) return true; }});
  results[path.basename(f)] = {listed, installed: walk(dest, '').sort()};
  fs.rmSync(dest, {recursive: true});
}
console.log(JSON.stringify(results));
`

// TestAgainstNodeTar checks the reader against node-tar, the tar reader
// npm itself uses: for benign and quirky archives, Files must be exactly
// what npm installs; for every parity case, node-tar must really read the
// archive differently from archive/tar (so the refusal is not spurious).
// It needs node and node-tar, so it runs only when VIGIL_NODE_TAR names
// node-tar's folder (e.g. /usr/lib/node_modules/npm/node_modules/tar).
func TestAgainstNodeTar(t *testing.T) {
	if os.Getenv("VIGIL_NODE_TAR") == "" {
		t.Skip("VIGIL_NODE_TAR is not set; set it to node-tar's folder to compare with npm's tar reader")
	}
	dir := t.TempDir()
	agree := map[string][]byte{
		"npm-package":   tarOf(t, file("package/package.json", "{}"), file("package/lib/a.js", "a"), ent{Name: "package/bin/x", Body: "#!", Mode: 0o755}),
		"shadow":        tarOf(t, file("package/index.js", "benign"), file("evil/index.js", "payload")),
		"root-level":    tarOf(t, file("package/index.js", "x"), file("setup.js", "y")),
		"dot-top":       tarOf(t, file("./package/index.js", "x")),
		"absolute":      tarOf(t, file("package/a.js", "a"), file("package//etc/x", "1"), file("package/C:/Windows/y", "2"), file("/etc/z", "3")),
		"dotdot":        tarOf(t, file("package/index.js", "ok"), file("package/lib/../index2.js", "p"), file("../../x.js", "q"), file(`package/..\..\evil.js`, "r")),
		"backslash":     tarOf(t, file(`package/lib\a.js`, "a")),
		"windows-roots": tarOf(t, file(`package/\\srv\share\x.js`, "a"), file("package///?/C:/y.js", "b"), file("package/c:z.js", "c")),
		"duplicates":    tarOf(t, file("package/a.js", "first"), file("package/./a.js", "second")),
		"links":         tarOf(t, file("package/a.js", "a"), ent{Name: "package/l", Type: tar.TypeSymlink, Link: "../../etc/passwd"}, ent{Name: "package/h", Type: tar.TypeLink, Link: "package/a.js"}),
		"type-0-dir":    rawTar(rawEntry(rawHeader("package/d/", tar.TypeReg, 0, nil), ""), rawEntry(rawHeader("package/d/a.js", tar.TypeReg, 1, nil), "a")),
		"v7":            rawTar(rawEntry(rawHeader("package/index.js", 0, 3, func(b []byte) { clear(b[257:]) }), "old")),
	}
	var files []string
	for name, b := range agree {
		files = append(files, writeTemp(t, dir, name+".tar", b))
	}
	cases := parityCases(t)
	for i, c := range cases {
		files = append(files, writeTemp(t, dir, "parity-"+string(rune('a'+i))+".tar", c.tar))
	}
	out, err := exec.Command("node", append([]string{"-e", nodeScript}, files...)...).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var results map[string]struct{ Listed, Installed []string }
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatal(err)
	}
	for name, b := range agree {
		a := mustRead(t, b)
		var ours []string
		for _, f := range a.Files {
			ours = append(ours, f.Path+"="+string(f.Data))
		}
		r, ok := results[name+".tar"]
		if !ok {
			t.Fatalf("node-tar gave no result for %s", name)
		}
		if npm := r.Installed; !slices.Equal(ours, npm) {
			t.Errorf("%s: Read gives %q, npm installs %q", name, ours, npm)
		}
	}
	for i, c := range cases {
		node := results["parity-"+string(rune('a'+i))+".tar"].Listed
		var goList []string
		tr := tar.NewReader(bytes.NewReader(c.tar))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			goList = append(goList, h.Name)
			io.Copy(io.Discard, tr)
		}
		var nodeNames []string
		for _, l := range node {
			_, n, _ := strings.Cut(l, " ")
			if !strings.HasPrefix(l, "GlobalExtendedHeader") {
				nodeNames = append(nodeNames, n)
			}
		}
		goNames := slices.DeleteFunc(goList, func(n string) bool { return n == "PaxHeader" })
		if slices.Equal(goNames, nodeNames) {
			t.Errorf("%s: node-tar reads %q like archive/tar; the refusal is not needed", c.name, node)
		} else {
			t.Logf("%s: archive/tar %q, node-tar %q", c.name, goNames, node)
		}
	}
}

func writeTemp(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
