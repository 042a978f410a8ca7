package diff

import (
	"strings"
	"testing"
)

func changeList(d ManifestDiff) string {
	var out []string
	for _, c := range d.Changes {
		s := string(c.Change) + " " + c.Field
		if c.Key != "" {
			s += "." + c.Key
		}
		s += ": " + c.Old + " → " + c.New
		if c.InstallTime {
			s += " [install]"
		} else if c.Lifecycle {
			s += " [lifecycle]"
		}
		if !c.Watched {
			s += " (other)"
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

func TestManifestDiff(t *testing.T) {
	tests := []struct {
		name   string
		a, b   string
		want   string
		errors [2]bool
	}{
		{
			name: "reformatting and key order are not changes",
			a:    `{"name":"x","version":"1.0.0","dependencies":{"a":"^1","b":"^2"}}`,
			b:    "{\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\"b\": \"^2\", \"a\": \"^1\"},\n  \"name\": \"x\"\n}\n",
			want: "",
		},
		{
			name: "version, scripts with lifecycle flags, dependencies",
			a:    `{"name":"x","version":"1.0.0","scripts":{"test":"tap","prepare":"tsc"},"dependencies":{"a":"^1","gone":"1"},"peerDependencies":{"react":"^18"}}`,
			b:    `{"name":"x","version":"1.0.1","scripts":{"test":"tap","prepare":"tsc -b","postinstall":"node setup.js"},"dependencies":{"a":"^2","plain-crypto-js":"^4.2.1"},"optionalDependencies":{"fsevents":"2"}}`,
			want: strings.Join([]string{
				"changed version: 1.0.0 → 1.0.1",
				"added scripts.postinstall:  → node setup.js [install]",
				"changed scripts.prepare: tsc → tsc -b [lifecycle]",
				"changed dependencies.a: ^1 → ^2",
				"removed dependencies.gone: 1 → ",
				"added dependencies.plain-crypto-js:  → ^4.2.1",
				"added optionalDependencies.fsevents:  → 2",
				"removed peerDependencies.react: ^18 → ",
			}, "\n"),
		},
		{
			name: "bin string form expands to the unscoped name; main and exports",
			a:    `{"name":"@s/tool","version":"1.0.0","bin":"cli.js","main":"index.js"}`,
			b:    `{"name":"@s/tool","version":"1.0.0","bin":{"tool":"cli.js","other":"x.js"},"exports":{".":"./index.js"}}`,
			want: strings.Join([]string{
				"added bin.other:  → x.js",
				"removed main: index.js → ",
				`added exports:  → {".":"./index.js"}`,
			}, "\n"),
		},
		{
			name: "other fields are listed after the watched ones",
			a:    `{"name":"x","version":"1.0.0","repository":"a/b","description":"old"}`,
			b:    `{"name":"x","version":"1.0.0","repository":{"type":"git","url":"git+https://github.com/a/b.git"},"description":"old","homepage":"h","author":""}`,
			want: strings.Join([]string{
				`added author:  → "" (other)`,
				"added homepage:  → h (other)",
				`changed repository: a/b → {"type":"git","url":"git+https://github.com/a/b.git"} (other)`,
			}, "\n"),
		},
		{
			name: "scripts of the wrong type compare as one value",
			a:    `{"scripts":"oops"}`,
			b:    `{"scripts":{"postinstall":"x"}}`,
			want: `changed scripts: oops → {"postinstall":"x"}`,
		},
		{
			name: "hostile values are sanitised",
			a:    `{"scripts":{}}`,
			b:    `{"scripts":{"install":"echo \u001b[2J\u001b]0;x\u0007 \u202egnp.exe"}}`,
			want: `added scripts.install:  → echo \x1b[2J\x1b]0;x\x07 \u{202E}gnp.exe [install]`,
		},
		{
			name:   "invalid JSON on one side: every field shows as added",
			a:      `{"name":`,
			b:      `{"name":"x"}`,
			want:   "added name:  → x",
			errors: [2]bool{true, false},
		},
		{
			name:   "not an object",
			a:      `null`,
			b:      `[1,2]`,
			want:   "",
			errors: [2]bool{true, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := manifestDiffBytes([]byte(tt.a), []byte(tt.b))
			if got := changeList(d); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if (d.ErrorA != "") != tt.errors[0] || (d.ErrorB != "") != tt.errors[1] {
				t.Errorf("errors A %q B %q, want %v", d.ErrorA, d.ErrorB, tt.errors)
			}
		})
	}
}

func TestManifestDiffMissingAndHuge(t *testing.T) {
	d := compareManifests(nil, nil)
	if d.ErrorA == "" || d.ErrorB == "" || len(d.Changes) != 0 {
		t.Errorf("no package.json on either side: %+v", d)
	}
	huge := `{"name":"x","description":"` + strings.Repeat("a", maxManifest) + `"}`
	d = manifestDiffBytes([]byte(`{"name":"x"}`), []byte(huge))
	if !strings.Contains(d.ErrorB, "more than") {
		t.Errorf("huge package.json: %+v", d.ErrorB)
	}
}
