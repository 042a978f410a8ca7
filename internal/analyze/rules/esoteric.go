package rules

import (
	"bytes"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// EsotericEncoding catches JSFuck, JJEncode and aaencode.
var EsotericEncoding = &Rule{
	ID:       "VGL-A021",
	Name:     "esoteric-encoding",
	Severity: High,
	Category: CatObfuscation,
	Summary: "A file is written in an esoteric JavaScript encoding: JSFuck (a run of 200+ characters from " +
		"[]()!+), JJEncode (90% or more of the code made of $, _ and punctuation), or aaencode (Japanese " +
		"emoticon identifiers such as ﾟωﾟﾉ).",
	Why:            "These encodings exist only to make code unreadable; no build tool emits them.",
	FalsePositives: "None known outside the encoders' own demos.",
	Check:          checkEsoteric,
}

func checkEsoteric(p *facts.Package) []Finding {
	var out []Finding
	for i := range p.Files {
		f := &p.Files[i]
		if f.Text == nil {
			continue
		}
		switch {
		case f.Text.EsotericRun >= 200:
			out = append(out, at(High, f, f.Text.EsotericPos, "JSFuck: %d consecutive characters drawn only from []()!+", f.Text.EsotericRun))
		case f.Text.NonSpace >= 500 && f.Text.Symbols*100 >= 90*f.Text.NonSpace:
			out = append(out, at(High, f, js.Pos{Offset: 0, Line: 1, Col: 1}, "JJEncode or JSFuck: %d%% of the code is punctuation and $/_ (written code is mostly letters)", f.Text.Symbols*100/f.Text.NonSpace))
		case bytes.Contains(f.Data, []byte("ﾟωﾟﾉ")) || bytes.Contains(f.Data, []byte("ﾟДﾟ")):
			pos := firstIndex(f.Data, []byte("ﾟ"))
			out = append(out, at(High, f, pos, "aaencode: identifiers made of Japanese emoticons"))
		}
	}
	return out
}

// firstIndex locates the first occurrence of sub in data.
func firstIndex(data, sub []byte) js.Pos {
	i := bytes.Index(data, sub)
	if i < 0 {
		return js.Pos{}
	}
	line := bytes.Count(data[:i], []byte{'\n'}) + 1
	col := i - (bytes.LastIndexByte(data[:i], '\n') + 1) + 1
	return js.Pos{Offset: i, Line: line, Col: col}
}
