package js

import (
	"math"
	"net/url"
	"strings"
	"unicode/utf16"

	"github.com/tdewolff/parse/v2/js"
)

// obfuscator.io (javascript-obfuscator) moves every string into one
// array, reads it through decoder functions that subtract a constant
// offset from the index (optionally base64- or RC4-decoding the entry),
// and shuffles the array at start-up with a loop of push(shift()) until a
// checksum over parseInt(decoder(i)) values matches a target. Resolving
// that statically — emulating the rotation over the array's own strings —
// turns window[_0x2f1a(0x174)] back into window.ethereum without running
// any of the code. The same shapes come from obfuscator.io's forks and
// from hand-written imitations, so they are matched structurally, not by
// name.

// obfAlphabet is obfuscator.io's base64 alphabet (lower case first).
const obfAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="

// minTable is the smallest string array treated as a string table.
const (
	minProviderTable = 5
	minVarTable      = 10
)

type stringArray struct {
	strs     []string
	node     *js.ArrayExpr
	rot      int
	rotated  bool
	resolved bool
	decoders int
	calls    int
	encoding string
}

type decoder struct {
	table    *stringArray
	offset   float64
	encoding string
}

// findStringArrays detects tables, decoders and rotations after collect.
func (e *evaluator) findStringArrays(iifes []*js.CallExpr) []*stringArray {
	tables := map[*js.Var]*stringArray{} // provider function or array variable
	providers := map[*js.Var]bool{}
	for v, f := range e.funcs {
		if len(f.params) != 0 || f.body == nil {
			continue
		}
		for _, s := range f.body.List {
			vd, ok := s.(*js.VarDecl)
			if !ok {
				continue
			}
			for _, b := range vd.List {
				if arr, ok := b.Default.(*js.ArrayExpr); ok {
					if strs, ok := stringElements(arr, minProviderTable); ok {
						tables[v] = &stringArray{strs: strs, node: arr, resolved: true}
						providers[v] = true
					}
				}
			}
		}
	}
	for v, init := range e.bind {
		if arr, ok := init.(*js.ArrayExpr); ok {
			if strs, ok := stringElements(arr, minVarTable); ok {
				tables[v] = &stringArray{strs: strs, node: arr, resolved: true}
			}
		}
	}
	if len(tables) == 0 {
		return nil
	}

	// Decoders: functions that read a table and subtract an offset.
	try := func(v *js.Var, f *funcRef) {
		if len(f.params) == 0 || f.body == nil || !e.offsetFuncs[f.node] {
			return
		}
		s := &decoderScan{e: e, tables: tables, providers: providers}
		js.Walk(s, f.body)
		if s.tooBig || s.table == nil || !s.hasOffset || !s.indexed[s.indexVar] {
			return
		}
		enc := ""
		if s.alphabet {
			enc = "base64"
			if s.rc4 {
				enc = "rc4"
			}
		}
		s.table.decoders++
		if enc != "" {
			s.table.encoding = enc
		}
		e.decoders[v] = &decoder{table: s.table, offset: s.offset, encoding: enc}
	}
	for v, f := range e.funcs {
		try(v, f)
	}
	for v, init := range e.bind {
		switch n := init.(type) {
		case *js.FuncDecl:
			try(v, newFuncRef(&n.Params, &n.Body, n))
		case *js.ArrowFunc:
			try(v, newFuncRef(&n.Params, &n.Body, n))
		}
	}

	// Rotations.
	saved := e.steps
	for _, call := range iifes {
		f, _ := iifeFunc(call.X)
		a0, ok := call.Args.List[0].Value.(*js.Var)
		if !ok {
			continue
		}
		t := tables[canon(a0)]
		if t == nil || t.rotated {
			continue
		}
		target := e.eval(call.Args.List[1].Value, 0)
		if target.kind != KindNumber {
			continue
		}
		sc := &rotationScan{}
		js.Walk(sc, f.body)
		if !sc.push || !sc.shift {
			continue
		}
		t.rotated = true
		if !sc.parseInt {
			// Older obfuscator.io: while(--n) push(shift()) after ++n,
			// i.e. exactly target rotations.
			if target.num >= 0 && target.num < 1e9 {
				t.rot = int(target.num) % len(t.strs)
			}
			continue
		}
		t.resolved = false
		expr := rotationExpr(e, f)
		if expr == nil {
			continue
		}
		e.steps = 0
		for r := 0; r < len(t.strs); r++ {
			t.rot = r
			t.resolved = true
			v := e.eval(expr, 0)
			e.memo = map[*js.Var]val{}
			if v.kind == KindNumber && v.num == target.num {
				break
			}
			t.resolved = false
			if e.steps > e.maxSteps/2 {
				break
			}
		}
		if !t.resolved {
			t.rot = 0
		}
	}
	e.steps = saved
	e.exhausted = false
	e.memo = map[*js.Var]val{}

	out := make([]*stringArray, 0, len(tables))
	seen := map[*stringArray]bool{}
	for _, t := range tables {
		if t.decoders > 0 && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func stringElements(arr *js.ArrayExpr, min int) ([]string, bool) {
	if len(arr.List) < min {
		return nil, false
	}
	strs := make([]string, 0, len(arr.List))
	for _, el := range arr.List {
		lit, ok := el.Value.(*js.LiteralExpr)
		if !ok || el.Spread || lit.TokenType != js.StringToken {
			return nil, false
		}
		s, _ := unquote(lit.Data)
		strs = append(strs, s)
	}
	return strs, true
}

type decoderScan struct {
	e         *evaluator
	tables    map[*js.Var]*stringArray
	providers map[*js.Var]bool
	table     *stringArray
	tableVar  *js.Var
	offset    float64
	hasOffset bool
	alphabet  bool
	rc4       bool
	nodes     int
	tooBig    bool
	indexVar  *js.Var
	indexed   map[*js.Var]bool
}

// maxDecoderNodes bounds a decoder's size: obfuscator.io's, RC4
// included, are a few hundred nodes. Larger functions (a UMD wrapper
// around a whole library) are not decoders, and scanning each of them in
// full would make detection quadratic in nested code.
const maxDecoderNodes = 800

func (s *decoderScan) Enter(n js.INode) js.IVisitor {
	s.nodes++
	if s.nodes > maxDecoderNodes {
		s.table = nil
		s.tooBig = true
		return nil
	}
	if s.tooBig {
		return nil
	}
	switch n := n.(type) {
	case *js.Var:
		v := canon(n)
		if t := s.tables[v]; t != nil && s.table == nil {
			s.table, s.tableVar = t, v
		}
	case *js.BinaryExpr:
		var k js.IExpr
		switch n.Op {
		case js.SubEqToken:
			if _, ok := n.X.(*js.Var); ok {
				k = n.Y
			}
		case js.EqToken:
			if x, ok := n.X.(*js.Var); ok {
				if sub, ok := n.Y.(*js.BinaryExpr); ok && sub.Op == js.SubToken {
					if y, ok := sub.X.(*js.Var); ok && canon(y) == canon(x) {
						k = sub.Y
					}
				}
			}
		}
		if x, ok := n.X.(*js.Var); ok && k != nil && !s.hasOffset && canon(x).Decl == js.ArgumentDecl {
			if v := s.e.eval(k, 0); v.kind == KindNumber {
				s.offset, s.hasOffset, s.indexVar = v.num, true, canon(x)
			}
		}
	case *js.IndexExpr:
		// The table is read at the adjusted parameter: table[i].
		if y, ok := n.Y.(*js.Var); ok {
			if s.indexed == nil {
				s.indexed = map[*js.Var]bool{}
			}
			s.indexed[canon(y)] = true
		}
	case *js.LiteralExpr:
		switch {
		case n.TokenType == js.StringToken:
			if str, _ := unquote(n.Data); str == obfAlphabet {
				s.alphabet = true
			}
		case js.IsNumeric(n.TokenType):
			if f, ok := parseNumber(n.Data); ok && f == 256 {
				s.rc4 = true
			}
		}
	}
	return s
}

func (s *decoderScan) Exit(js.INode) {}

type rotationScan struct {
	push, shift, parseInt bool
	nodes                 int
}

func (s *rotationScan) Enter(n js.INode) js.IVisitor {
	s.nodes++
	if s.nodes > 20000 {
		return nil
	}
	var name string
	switch n := n.(type) {
	case *js.LiteralExpr:
		if n.TokenType == js.StringToken {
			name, _ = unquote(n.Data)
		} else if n.TokenType == js.IdentifierToken {
			name = string(n.Data)
		}
	case *js.Var:
		name = string(n.Data)
	}
	switch name {
	case "push":
		s.push = true
	case "shift":
		s.shift = true
	case "parseInt":
		s.parseInt = true
	}
	return s
}

func (s *rotationScan) Exit(js.INode) {}

// rotationExpr finds the checksum expression compared with the target
// parameter: if (expr === target) break; or const v = expr; if (v === target).
func rotationExpr(e *evaluator, f *funcRef) js.IExpr {
	if len(f.params) < 2 || f.params[1] == nil {
		return nil
	}
	target := f.params[1]
	var found js.IExpr
	var visit func(n js.INode)
	w := &finder{match: func(n js.INode) bool {
		b, ok := n.(*js.BinaryExpr)
		if !ok || (b.Op != js.EqEqEqToken && b.Op != js.EqEqToken) {
			return false
		}
		other := js.IExpr(nil)
		if v, ok := b.Y.(*js.Var); ok && canon(v) == target {
			other = b.X
		} else if v, ok := b.X.(*js.Var); ok && canon(v) == target {
			other = b.Y
		}
		if other == nil {
			return false
		}
		if v, ok := other.(*js.Var); ok {
			if init, ok := e.bind[canon(v)]; ok {
				other = init
			}
		}
		found = other
		return true
	}}
	visit = func(n js.INode) { js.Walk(w, n) }
	visit(f.body)
	return found
}

type finder struct {
	match func(js.INode) bool
	done  bool
	nodes int
}

func (f *finder) Enter(n js.INode) js.IVisitor {
	f.nodes++
	if f.done || f.nodes > 20000 {
		return nil
	}
	if f.match(n) {
		f.done = true
		return nil
	}
	return f
}

func (f *finder) Exit(js.INode) {}

// decode reads entry idx of the decoder's table as the code would at run
// time; key is the RC4 key argument.
func (e *evaluator) decode(d *decoder, idx, key val) val {
	t := d.table
	if !t.resolved {
		return unknown
	}
	f, ok := toNumber(idx)
	if !ok {
		return unknown
	}
	f -= d.offset
	if f < 0 || f != math.Trunc(f) || f >= float64(len(t.strs)) {
		return unknown
	}
	s := t.strs[(int(f)+t.rot)%len(t.strs)]
	o := FromStringArray
	switch d.encoding {
	case "base64":
		s, ok = obfBase64(s)
		o |= FromBase64
	case "rc4":
		k, kok := toStr(key)
		if !kok || k == "" {
			return unknown
		}
		s, ok = obfRC4(s, k)
		o |= FromBase64
	}
	if !ok {
		return unknown
	}
	t.calls++
	return strVal(s, o)
}

// obfBase64Units emulates obfuscator.io's base64 loop, which returns one
// UTF-16 unit per decoded byte.
func obfBase64Units(s string) []uint16 {
	var out []uint16
	bc, bs := 0, 0
	for _, ch := range s {
		b := strings.IndexRune(obfAlphabet, ch)
		if b < 0 {
			continue
		}
		if bc%4 != 0 {
			bs = bs*64 + b
		} else {
			bs = b
		}
		emit := bc%4 != 0
		bc++
		if emit {
			out = append(out, uint16(255&(int32(bs)>>((-2*bc)&6))))
		}
	}
	return out
}

// obfBase64 is the decoder's base64 followed by decodeURIComponent of the
// bytes (i.e. UTF-8 decoding); invalid UTF-8 throws in JavaScript.
func obfBase64(s string) (string, bool) {
	units := obfBase64Units(s)
	var sb strings.Builder
	for _, u := range units {
		sb.WriteByte('%')
		sb.WriteByte("0123456789abcdef"[u>>4&15])
		sb.WriteByte("0123456789abcdef"[u&15])
	}
	out, err := url.PathUnescape(sb.String())
	if err != nil || !validUTF8(out) {
		return "", false
	}
	return out, true
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }

// obfRC4 is obfuscator.io's RC4 variant over UTF-16 units.
func obfRC4(s, key string) (string, bool) {
	in, ok := obfBase64(s)
	if !ok {
		return "", false
	}
	data := utf16.Encode([]rune(in))
	k := utf16.Encode([]rune(key))
	var st [256]int
	for i := range st {
		st[i] = i
	}
	j := 0
	for i := 0; i < 256; i++ {
		j = (j + st[i] + int(k[i%len(k)])) % 256
		st[i], st[j] = st[j], st[i]
	}
	i, j := 0, 0
	out := make([]uint16, len(data))
	for y, c := range data {
		i = (i + 1) % 256
		j = (j + st[i]) % 256
		st[i], st[j] = st[j], st[i]
		out[y] = c ^ uint16(st[(st[i]+st[j])%256])
	}
	return string(utf16.Decode(out)), true
}
