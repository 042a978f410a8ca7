package js

import (
	"context"
	"io"
	"unsafe"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// The lexical scan is the fallback for code the parser rejects
// (TypeScript, JSX, syntax errors, deliberately broken files) and for
// files too large to parse. It records strings, regexps, identifiers and
// numbers exactly, and calls, assignments and imports by token patterns
// (a.b.c( …, a.b = …, require("x")) without scopes: a local variable
// named like a global is taken for the global.

type token struct {
	tt  js.TokenType
	off int32 // the lexical scan reads at most MaxParseBytes (or SampleBytes)
	len int32
}

const maxLexRestarts = 10_000

func lexical(ctx context.Context, f *Facts, src []byte, opt Options) {
	buf := make([]byte, len(src)+1)
	copy(buf, src)
	buf = buf[:len(src)]
	l := &lexScan{f: f, src: buf, opt: opt, lines: lineStarts(buf), idents: map[string]struct{}{}}
	if len(buf) > 0 {
		l.base = uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	}
	l.toks = make([]token, 0, min(len(buf)/4+16, 10*opt.MaxFacts))
	l.tokenize(ctx)
	l.match()
	identStats(&f.Idents, l.idents)
}

type lexScan struct {
	f      *Facts
	src    []byte
	base   uintptr
	opt    Options
	lines  []int
	toks   []token
	idents map[string]struct{}
}

func (l *lexScan) off(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < l.base || p >= l.base+uintptr(len(l.src)) {
		return -1
	}
	return int(p - l.base)
}

func (l *lexScan) pos(off int) Pos {
	w := walker{src: l.src, lines: l.lines}
	return w.pos(off)
}

// regexpAllowed decides whether a / starts a regular expression, from the
// previous significant token — the classic heuristic.
func regexpAllowed(prev js.TokenType, have bool) bool {
	if !have {
		return true
	}
	switch prev {
	case js.CloseParenToken, js.CloseBracketToken, js.CloseBraceToken,
		js.StringToken, js.TemplateToken, js.TemplateEndToken, js.RegExpToken,
		js.ThisToken, js.SuperToken, js.TrueToken, js.FalseToken, js.NullToken,
		js.IncrToken, js.DecrToken, js.PrivateIdentifierToken:
		return false
	}
	if js.IsNumeric(prev) {
		return false
	}
	if js.IsIdentifier(prev) {
		return false
	}
	return true
}

func (l *lexScan) tokenize(ctx context.Context) {
	start := 0
	for restarts := 0; start < len(l.src) && restarts < maxLexRestarts; restarts++ {
		lx := js.NewLexer(parse.NewInputBytes(l.src[start : len(l.src) : len(l.src)+1]))
		end := start
		var prev js.TokenType
		have := false
		for {
			if len(l.toks)&0xfff == 0 && ctx.Err() != nil {
				return
			}
			tt, data := lx.Next()
			if tt == js.ErrorToken {
				if lx.Err() == io.EOF {
					return
				}
				break
			}
			if (tt == js.DivToken || tt == js.DivEqToken) && regexpAllowed(prev, have) {
				if rt, rdata := lx.RegExp(); rt == js.RegExpToken {
					tt, data = rt, rdata
				} else {
					break
				}
			}
			o := l.off(data)
			if o < 0 {
				continue
			}
			end = o + len(data)
			switch tt {
			case js.WhitespaceToken, js.LineTerminatorToken, js.CommentToken, js.CommentLineTerminatorToken:
				continue
			}
			prev, have = tt, true
			if len(l.toks) >= 10*l.opt.MaxFacts {
				l.f.Truncated = true
				return
			}
			l.toks = append(l.toks, token{tt: tt, off: int32(o), len: int32(len(data))})
		}
		// The lexer stopped on a character it cannot read (a decorator, a
		// stray byte): resume after it.
		if end <= start {
			end = start
		}
		start = end + 1
		l.f.Truncated = true
	}
}

func (l *lexScan) text(t token) []byte { return l.src[t.off : t.off+t.len] }

func (t token) offset() int { return int(t.off) }

func (l *lexScan) is(i int, tt js.TokenType) bool {
	return i >= 0 && i < len(l.toks) && l.toks[i].tt == tt
}

func (l *lexScan) match() {
	f := l.f
	full := func(n int) bool {
		if n >= l.opt.MaxFacts {
			f.Truncated = true
			return true
		}
		return false
	}
	for i := 0; i < len(l.toks); i++ {
		t := l.toks[i]
		data := l.text(t)
		switch {
		case t.tt == js.StringToken:
			if s, ok := unquote(data); ok && !full(len(f.Strings)) {
				f.Strings = append(f.Strings, String{Value: truncUTF8(s, maxKeepString), Len: len(s), Pos: l.pos(t.offset())})
			}
		case t.tt == js.TemplateToken || t.tt == js.TemplateStartToken || t.tt == js.TemplateMiddleToken || t.tt == js.TemplateEndToken:
			if s := templateText(data); s != "" && !full(len(f.Strings)) {
				f.Strings = append(f.Strings, String{Value: truncUTF8(s, maxKeepString), Len: len(s), Pos: l.pos(t.offset())})
			}
		case t.tt == js.RegExpToken:
			src, flags := splitRegexp(data)
			if !full(len(f.Regexps)) {
				f.Regexps = append(f.Regexps, Regexp{Source: src, Flags: flags, Pos: l.pos(t.offset())})
			}
		case js.IsNumeric(t.tt):
			f.Numbers.Literals++
			if t.tt == js.HexadecimalToken {
				f.Numbers.Hex++
				if l.hexRunStart(i) {
					if f.Numbers.HexArith == 0 {
						f.Numbers.HexArithPos = l.pos(t.offset())
					}
					f.Numbers.HexArith++
				}
			}
		case t.tt == js.ImportToken:
			l.importAt(i)
		case js.IsIdentifier(t.tt):
			if len(l.idents) < maxIdents {
				l.idents[string(data)] = struct{}{}
			}
			if l.is(i-1, js.DotToken) || l.is(i-1, js.OptChainToken) {
				continue
			}
			l.pathAt(i)
		}
	}
}

// hexRunStart reports whether token i starts a run hex (op -?hex)+.
func (l *lexScan) hexRunStart(i int) bool {
	isOp := func(j int) bool {
		return l.is(j, js.AddToken) || l.is(j, js.SubToken) || l.is(j, js.MulToken)
	}
	if isOp(i-1) && (l.is(i-2, js.HexadecimalToken) || (l.is(i-2, js.SubToken) && l.is(i-3, js.HexadecimalToken))) {
		return false
	}
	if l.is(i-1, js.SubToken) && isOp(i-2) {
		return false
	}
	j := i + 1
	if !isOp(j) {
		return false
	}
	j++
	if l.is(j, js.SubToken) {
		j++
	}
	return l.is(j, js.HexadecimalToken)
}

func (l *lexScan) importAt(i int) {
	f := l.f
	switch {
	case l.is(i+1, js.StringToken):
		if s, ok := unquote(l.text(l.toks[i+1])); ok {
			f.Imports = append(f.Imports, Import{Module: moduleName(s), Static: true, Pos: l.pos(l.toks[i].offset())})
		}
	case l.is(i+1, js.OpenParenToken):
		imp := Import{Dynamic: true, Pos: l.pos(l.toks[i].offset())}
		if l.is(i+2, js.StringToken) && l.is(i+3, js.CloseParenToken) {
			imp.Module, _ = unquote(l.text(l.toks[i+2]))
			imp.Module = moduleName(imp.Module)
		} else {
			imp.Computed = true
		}
		f.Imports = append(f.Imports, imp)
	default:
		// import … from "x": find the from within a short distance.
		for j := i + 1; j < len(l.toks) && j < i+64; j++ {
			if l.toks[j].tt == js.SemicolonToken {
				break
			}
			if l.toks[j].tt == js.FromToken && l.is(j+1, js.StringToken) {
				if s, ok := unquote(l.text(l.toks[j+1])); ok {
					f.Imports = append(f.Imports, Import{Module: moduleName(s), Static: true, Pos: l.pos(l.toks[j+1].offset())})
				}
				break
			}
		}
	}
}

// pathAt reads a member path starting at identifier i and records the
// call or assignment it heads.
func (l *lexScan) pathAt(i int) {
	f := l.f
	first := string(l.text(l.toks[i]))
	path := first
	j := i
	for k := 0; k < 16; k++ {
		switch {
		case (l.is(j+1, js.DotToken) || l.is(j+1, js.OptChainToken)) && j+2 < len(l.toks) && js.IsIdentifierName(l.toks[j+2].tt):
			path = joinPath(path, string(l.text(l.toks[j+2])))
			j += 2
			continue
		case l.is(j+1, js.OpenBracketToken) && l.is(j+2, js.StringToken) && l.is(j+3, js.CloseBracketToken):
			s, _ := unquote(l.text(l.toks[j+2]))
			path = joinPath(path, s)
			j += 3
			continue
		}
		break
	}
	if path == "" {
		return
	}
	p := l.pos(l.toks[i].offset())
	declared := l.is(i-1, js.VarToken) || l.is(i-1, js.LetToken) || l.is(i-1, js.ConstToken) || l.is(i-1, js.FunctionToken)
	switch {
	case l.is(j+1, js.OpenParenToken) && !declared:
		c := Call{Callee: path, New: l.is(i-1, js.NewToken), Pos: p}
		if l.is(j+2, js.StringToken) && (l.is(j+3, js.CloseParenToken) || l.is(j+3, js.CommaToken)) {
			s, _ := unquote(l.text(l.toks[j+2]))
			c.Args = []Value{{Kind: KindString, Str: truncUTF8(s, maxArgString), Len: len(s)}}
			c.ArgCount = 1
		} else if !l.is(j+2, js.CloseParenToken) {
			c.Args = []Value{{}}
			c.ArgCount = 1
		}
		if path == "require" {
			imp := Import{Pos: p}
			if len(c.Args) > 0 && c.Args[0].Kind == KindString {
				imp.Module = moduleName(c.Args[0].Str)
			} else {
				imp.Computed = true
			}
			if len(f.Imports) < l.opt.MaxFacts {
				f.Imports = append(f.Imports, imp)
			}
		}
		if len(f.Calls) < l.opt.MaxFacts {
			f.Calls = append(f.Calls, c)
		} else {
			f.Truncated = true
		}
	case l.is(j+1, js.EqToken) && j > i && !ignoredTarget(path):
		if len(f.Assigns) < l.opt.MaxFacts {
			f.Assigns = append(f.Assigns, Assign{Target: path, Via: "=", Pos: p})
		} else {
			f.Truncated = true
		}
	}
}
