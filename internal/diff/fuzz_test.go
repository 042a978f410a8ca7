package diff

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzManifestDiff: any two documents give a bounded, sanitised result
// and no panic; a document compared with itself has no changes.
func FuzzManifestDiff(f *testing.F) {
	f.Add([]byte(`{"name":"x","version":"1.0.0","scripts":{"postinstall":"node a.js"}}`), []byte(`{"name":"x","version":"1.0.1","bin":"cli.js"}`))
	f.Add([]byte(`{"bin":{"a":1},"dependencies":[1,2]}`), []byte(`{"bin":null,"dependencies":{"a":{"b":"c"}}}`))
	f.Add([]byte(`{"scripts":"x","exports":{".":{"import":"./a.mjs"}}}`), []byte(`not json`))
	f.Add([]byte(`{"a":1e999,"b":12345678901234567890}`), []byte(`{"a":"\u001b[2J","b":12345678901234567891}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := manifestDiffBytes(a, b)
		for _, c := range d.Changes {
			for _, s := range []string{c.Old, c.New} {
				if utf8.RuneCountInString(s) > maxValue+1 || strings.ContainsAny(s, "\x1b\x07\r\n\u202e") {
					t.Fatalf("unbounded or unsanitised value %q", s)
				}
			}
			if c.Change != Added && c.Change != Removed && c.Change != Modified {
				t.Fatalf("change kind %q", c.Change)
			}
		}
		if self := manifestDiffBytes(b, b); len(self.Changes) != 0 {
			t.Fatalf("a document differs from itself: %+v", self.Changes)
		}
	})
}

// FuzzLineDiff: counts add up, hunks stay within the files and the
// limits, and every shown line is sanitised.
func FuzzLineDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nx\nc\n", 3)
	f.Add("", "only in b\n", 0)
	f.Add("one long line without newline", "one long line with a change", 1)
	f.Add("\r\n\r\n\x00", "\n\x1b[2J\n", -1)
	f.Fuzz(func(t *testing.T, a, b string, context int) {
		opt := Options{Context: context % 8, MaxHunks: 4, MaxFileBytes: 2048, LineWindow: 64, MaxMatchLines: 400}.withDefaults()
		td := lineDiff([]byte(a), []byte(b), opt, &budget{left: 4096})
		if td.LinesA-td.Removed+td.Added != td.LinesB {
			t.Fatalf("lines %d - %d + %d != %d", td.LinesA, td.Removed, td.Added, td.LinesB)
		}
		if len(td.Hunks) > opt.MaxHunks {
			t.Fatalf("%d hunks", len(td.Hunks))
		}
		r := td.Region
		if r.Offset+r.LenA != len(a)-(len(b)-r.Offset-r.LenB) || r.Offset > min(len(a), len(b)) {
			t.Fatalf("region %+v for %d/%d bytes", r, len(a), len(b))
		}
		shown := 0
		for _, h := range td.Hunks {
			if h.OldStart < 0 || h.OldStart+h.OldLines > td.LinesA+1 || h.NewStart+h.NewLines > td.LinesB+1 {
				t.Fatalf("hunk @@ -%d,%d +%d,%d @@ outside %d/%d lines", h.OldStart, h.OldLines, h.NewStart, h.NewLines, td.LinesA, td.LinesB)
			}
			for _, l := range h.Lines {
				shown += len(l.Text) + 1
				if strings.ContainsAny(l.Text, "\x00\x1b\r\n") || !utf8.ValidString(l.Text) {
					t.Fatalf("unsanitised line %q", l.Text)
				}
				if l.Op != " " && l.Op != "-" && l.Op != "+" {
					t.Fatalf("op %q", l.Op)
				}
			}
		}
		// A line may overshoot the byte cap once: the one that crossed it.
		if shown > opt.MaxFileBytes+4*opt.LineWindow+1 {
			t.Fatalf("%d bytes shown", shown)
		}
	})
}
