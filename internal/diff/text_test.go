package diff

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func diffText(a, b string, opt Options) *TextDiff {
	opt = opt.withDefaults()
	return lineDiff([]byte(a), []byte(b), opt, &budget{left: opt.MaxTotalBytes})
}

func render(td *TextDiff) string {
	var b strings.Builder
	for _, h := range td.Hunks {
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", h.OldStart, h.OldLines, h.NewStart, h.NewLines)
		for _, l := range h.Lines {
			b.WriteString(l.Op + l.Text + "\n")
		}
	}
	return b.String()
}

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	ten := numbered(10)
	tests := []struct {
		name string
		a, b string
		opt  Options
		want string
	}{
		{
			name: "one line changed, default context",
			a:    ten, b: strings.Replace(ten, "line 5\n", "line five\n", 1),
			want: "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n",
		},
		{
			name: "no context",
			a:    ten, b: strings.Replace(ten, "line 5\n", "line five\n", 1), opt: Options{Context: -1},
			want: "@@ -5,1 +5,1 @@\n-line 5\n+line five\n",
		},
		{
			name: "insertion at the start",
			a:    ten, b: "new\n" + ten, opt: Options{Context: 1},
			want: "@@ -1,1 +1,2 @@\n+new\n line 1\n",
		},
		{
			name: "deletion at the end",
			a:    ten, b: numbered(9), opt: Options{Context: 1},
			want: "@@ -9,2 +9,1 @@\n line 9\n-line 10\n",
		},
		{
			name: "two distant changes make two hunks",
			a:    numbered(30), b: strings.Replace(strings.Replace(numbered(30), "line 3\n", "x\n", 1), "line 28\n", "y\n", 1), opt: Options{Context: 1},
			want: "@@ -2,3 +2,3 @@\n line 2\n-line 3\n+x\n line 4\n@@ -27,3 +27,3 @@\n line 27\n-line 28\n+y\n line 29\n",
		},
		{
			name: "only the final newline differs",
			a:    "a\nb\n", b: "a\nb",
			want: "",
		},
		{
			name: "terminal escapes are sanitised",
			a:    "x\n", b: "x\n\x1b]0;pwned\x07\x1b[2J\u202e\n", opt: Options{Context: -1},
			want: "@@ -1,0 +2,1 @@\n+\\x1b]0;pwned\\x07\\x1b[2J\\u{202E}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := diffText(tt.a, tt.b, tt.opt)
			if got := render(td); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestLineDiffCounts(t *testing.T) {
	td := diffText(numbered(10), strings.Replace(numbered(12), "line 4\n", "four\n", 1), Options{})
	if td.LinesA != 10 || td.LinesB != 12 || td.Added != 3 || td.Removed != 1 {
		t.Errorf("counts: %+v", td)
	}
}

// A 2 MB one-line bundle changed in the middle must give a short diff: a
// window around the first differing byte, and the region that says what
// changed where.
func TestLineDiffHugeOneLiner(t *testing.T) {
	const size = 2 << 20
	a := bytes.Repeat([]byte("abcdefghij"), size/10)
	b := bytes.Clone(a)
	mid := len(a) / 2
	b = append(b[:mid:mid], append([]byte("EVIL()"), a[mid:]...)...)
	start := time.Now()
	td := diffText(string(a), string(b), Options{})
	elapsed := time.Since(start)
	if len(td.Hunks) != 1 || len(td.Hunks[0].Lines) != 2 {
		t.Fatalf("hunks: %+v", td.Hunks)
	}
	for _, l := range td.Hunks[0].Lines {
		if !l.Cut || len(l.Text) > DefaultLineWindow || l.From < mid-DefaultLineWindow || l.From > mid {
			t.Errorf("line %s: cut %v, %d bytes shown from %d (change at %d)", l.Op, l.Cut, len(l.Text), l.From, mid)
		}
	}
	if plus := td.Hunks[0].Lines[1]; !strings.Contains(plus.Text, "EVIL()") || plus.Len != len(b) {
		t.Errorf("the window misses the change: %+v", plus)
	}
	if r := td.Region; r.Offset != mid || r.LenA != 0 || r.LenB != 6 || r.Line != 1 || r.Col != mid+1 {
		t.Errorf("region %+v, want offset %d, 0 → 6 bytes", r, mid)
	}
	if elapsed > 2*time.Second {
		t.Errorf("a 2 MB one-line diff took %v", elapsed)
	}
}

func TestLineDiffLimits(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&a, "keep %d\nold %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\n", i, i, i, i, i, i, i, i)
		fmt.Fprintf(&b, "keep %d\nnew %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\nkeep %d\n", i, i, i, i, i, i, i, i)
	}
	td := diffText(a.String(), b.String(), Options{MaxHunks: 5})
	if len(td.Hunks) != 5 || td.OmittedHunks != 195 || !td.Truncated || td.Added != 200 || td.Removed != 200 {
		t.Errorf("hunk cap: %d hunks, %d omitted, truncated %v, +%d -%d", len(td.Hunks), td.OmittedHunks, td.Truncated, td.Added, td.Removed)
	}
	td = diffText(a.String(), b.String(), Options{MaxFileBytes: 300})
	shown := 0
	for _, h := range td.Hunks {
		for _, l := range h.Lines {
			shown += len(l.Text) + 1
		}
	}
	if shown > 300+DefaultLineWindow || !td.Truncated || td.OmittedHunks == 0 {
		t.Errorf("byte cap: %d bytes shown, truncated %v, %d hunks omitted", shown, td.Truncated, td.OmittedHunks)
	}
	bud := &budget{left: 100}
	opt := Options{}.withDefaults()
	lineDiff([]byte(a.String()), []byte(b.String()), opt, bud)
	if bud.left > 0 {
		t.Errorf("the total budget was not charged: %d left", bud.left)
	}
}

// Beyond MaxMatchLines the middle is one replaced block, shown within the
// byte limits.
func TestLineDiffCoarse(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	td := diffText("head\n"+a.String()+"tail\n", "head\n"+b.String()+"tail\n", Options{MaxMatchLines: 1000, MaxFileBytes: 2000})
	if !td.Coarse || td.Added != 3000 || td.Removed != 3000 || len(td.Hunks) != 1 || !td.Truncated {
		t.Fatalf("coarse: coarse %v +%d -%d, %d hunks, truncated %v", td.Coarse, td.Added, td.Removed, len(td.Hunks), td.Truncated)
	}
	h := td.Hunks[0]
	if h.OldStart != 1 || h.OldLines != 3002 || h.Lines[0].Text != "head" || h.Omitted == 0 {
		t.Errorf("coarse hunk @@ -%d,%d @@ first %q omitted %d", h.OldStart, h.OldLines, h.Lines[0].Text, h.Omitted)
	}
}
