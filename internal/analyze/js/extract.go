package js

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// Options bound the work done on one file.
type Options struct {
	// MaxParseBytes: larger files are not parsed but lexically sampled.
	MaxParseBytes int
	// SampleBytes: how much of an oversized file the lexical scan reads.
	SampleBytes int
	// MaxFacts caps each fact list (calls, assignments, strings…).
	MaxFacts int
	// MaxSteps is the evaluator's budget of expression evaluations.
	MaxSteps int
	// MaxFoldedBytes caps the bytes of strings the evaluator builds.
	MaxFoldedBytes int
	// MaxNodes caps the syntax-tree nodes visited.
	MaxNodes int
}

// DefaultOptions suit npm packages: a 5 MiB file parses in well under a
// second; anything larger is a bundle or a blob and is sampled.
func DefaultOptions() Options {
	return Options{
		MaxParseBytes:  5 << 20,
		SampleBytes:    1 << 20,
		MaxFacts:       100_000,
		MaxSteps:       4_000_000,
		MaxFoldedBytes: 32 << 20,
		MaxNodes:       8_000_000,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxParseBytes <= 0 {
		o.MaxParseBytes = d.MaxParseBytes
	}
	if o.SampleBytes <= 0 {
		o.SampleBytes = d.SampleBytes
	}
	if o.MaxFacts <= 0 {
		o.MaxFacts = d.MaxFacts
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = d.MaxSteps
	}
	if o.MaxFoldedBytes <= 0 {
		o.MaxFoldedBytes = d.MaxFoldedBytes
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = d.MaxNodes
	}
	return o
}

const (
	maxArgs       = 4
	maxKeepString = 64 << 10 // bytes of one string kept in Facts
	maxArgString  = 4 << 10
	searchWindow  = 4096
	maxIdents     = 200_000
)

// Extract reads one JavaScript file. It returns an error only when ctx
// is done; malformed code is a fact (Facts.ParseError), not an error.
func Extract(ctx context.Context, src []byte, opt Options) (*Facts, error) {
	opt = opt.withDefaults()
	f := &Facts{Size: len(src), Mode: ModeAST}
	if len(src) > opt.MaxParseBytes {
		f.Mode = ModeSampled
		f.Truncated = true
		lexical(ctx, f, src[:opt.SampleBytes], opt)
		return f, ctx.Err()
	}
	// The parser writes a NUL past the end of its input when the slice has
	// room; give it its own copy so the caller's buffer (maybe shared with
	// other goroutines) is never touched.
	buf := make([]byte, len(src)+1)
	copy(buf, src)
	buf = buf[:len(src)]
	ast, perr := parseJS(buf)
	if perr != nil {
		f.Mode = ModeLexical
		f.ParseError = perr
		lexical(ctx, f, src, opt)
		return f, ctx.Err()
	}
	w := newWalker(ctx, f, buf, opt)
	iifes, calls := collect(w.e, ast, opt.MaxNodes)
	for _, t := range w.e.findStringArrays(iifes) {
		w.tables[t.node] = t
	}
	w.e.bindParams(calls)
	w.stmt(&ast.BlockStmt)
	w.finish()
	return f, w.err
}

// parseJS runs the parser, turning its errors — and, defensively, any
// panic on hostile input — into a ParseError.
func parseJS(buf []byte) (ast *js.AST, perr *ParseError) {
	defer func() {
		if r := recover(); r != nil {
			ast, perr = nil, &ParseError{Message: fmt.Sprintf("parser failure: %v", r)}
		}
	}()
	ast, err := js.Parse(parse.NewInputBytes(buf), js.Options{})
	if err != nil && strings.Contains(err.Error(), "unexpected return") {
		// CommonJS allows return at the top level (Node wraps modules in a
		// function); the parser's inline mode does too.
		// Inline mode does not skip a shebang line: blank it (offsets stay).
		if len(buf) > 1 && buf[0] == '#' && buf[1] == '!' {
			for i := 0; i < len(buf) && buf[i] != '\n'; i++ {
				buf[i] = ' '
			}
		}
		if a, err2 := js.Parse(parse.NewInputBytes(buf), js.Options{Inline: true}); err2 == nil {
			ast, err = a, nil
		}
	}
	if err != nil {
		pe := &ParseError{Message: err.Error()}
		var e *parse.Error
		if errors.As(err, &e) {
			pe.Message = e.Message
			pe.Pos = Pos{Line: e.Line, Col: e.Column}
		}
		return nil, pe
	}
	return ast, nil
}

type walker struct {
	ctx     context.Context
	e       *evaluator
	f       *Facts
	opt     Options
	src     []byte
	base    uintptr
	lines   []int
	cursor  int
	loops   int
	nodes   int
	err     error
	tables  map[*js.ArrayExpr]*stringArray
	saIndex map[*stringArray]int
	idents  map[string]struct{}
}

func newWalker(ctx context.Context, f *Facts, src []byte, opt Options) *walker {
	w := &walker{
		ctx:     ctx,
		e:       newEvaluator(opt.MaxSteps, opt.MaxFoldedBytes),
		f:       f,
		opt:     opt,
		src:     src,
		lines:   lineStarts(src),
		tables:  map[*js.ArrayExpr]*stringArray{},
		saIndex: map[*stringArray]int{},
		idents:  map[string]struct{}{},
	}
	if len(src) > 0 {
		w.base = uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	}
	return w
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (w *walker) pos(off int) Pos {
	if off < 0 || off > len(w.src) {
		return Pos{}
	}
	i := sort.Search(len(w.lines), func(i int) bool { return w.lines[i] > off }) - 1
	return Pos{Offset: off, Line: i + 1, Col: off - w.lines[i] + 1}
}

// abs finds where a token the parser handed over lies in the source. The
// parser's literals are sub-slices of its input, so the distance between
// the slices' data pointers is the offset. Nodes the parser shares (a
// variable's uses all point at its first occurrence) are located with
// findIdent instead.
func (w *walker) abs(b []byte) (int, bool) {
	if len(b) == 0 || w.base == 0 {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < w.base || p >= w.base+uintptr(len(w.src)) {
		return 0, false
	}
	return int(p - w.base), true
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// findIdent finds the next occurrence of an identifier at or after the
// cursor. The walk visits nodes in source order and every literal resets
// the cursor to its exact offset, so the next whole-word occurrence that
// is not a property name is the identifier's own.
func (w *walker) findIdent(name []byte) int {
	if len(name) == 0 {
		return -1
	}
	start := w.cursor
	end := min(len(w.src), start+searchWindow+len(name))
	if start >= end {
		return -1
	}
	hay := w.src[start:end]
	for i := 0; i < len(hay); {
		j := bytes.Index(hay[i:], name)
		if j < 0 {
			return -1
		}
		k := start + i + j
		before := k - 1
		if (before < 0 || (!isIdentByte(w.src[before]) && w.src[before] != '.')) &&
			(k+len(name) >= len(w.src) || !isIdentByte(w.src[k+len(name)])) {
			return k
		}
		i += j + 1
	}
	return -1
}

// start returns the offset where n begins, without moving the cursor.
func (w *walker) start(n js.INode) int {
	for i := 0; i < 64; i++ {
		switch x := n.(type) {
		case *js.Var:
			if off := w.findIdent(x.Data); off >= 0 {
				return off
			}
			return w.cursor
		case *js.LiteralExpr:
			if off, ok := w.abs(x.Data); ok {
				return off
			}
			if off := w.findIdent(x.Data); off >= 0 {
				return off
			}
			return w.cursor
		case *js.DotExpr:
			n = x.X
		case *js.IndexExpr:
			n = x.X
		case *js.CallExpr:
			n = x.X
		case *js.BinaryExpr:
			n = x.X
		case *js.CondExpr:
			n = x.Cond
		case *js.CommaExpr:
			if len(x.List) == 0 {
				return w.cursor
			}
			n = x.List[0]
		case *js.TemplateExpr:
			if x.Tag != nil {
				n = x.Tag
				continue
			}
			if len(x.List) > 0 {
				if off, ok := w.abs(x.List[0].Value); ok {
					return off
				}
			} else if off, ok := w.abs(x.Tail); ok {
				return off
			}
			return w.cursor
		case *js.NewExpr:
			if off := w.findIdent([]byte("new")); off >= 0 {
				return off
			}
			return w.cursor
		case *js.GroupExpr, *js.UnaryExpr:
			return w.nextNonSpace()
		default:
			return w.nextNonSpace()
		}
	}
	return w.cursor
}

func (w *walker) nextNonSpace() int {
	i := w.cursor
	for i < len(w.src) && i < w.cursor+searchWindow {
		switch w.src[i] {
		case ' ', '\t', '\n', '\r', ';', ',':
			i++
			continue
		}
		return i
	}
	return w.cursor
}

func (w *walker) consumeVar(v *js.Var) {
	if off := w.findIdent(v.Data); off >= 0 {
		w.cursor = off + len(v.Data)
	}
}

func (w *walker) consumeAbs(b []byte) (int, bool) {
	off, ok := w.abs(b)
	if ok {
		w.cursor = off + len(b)
	}
	return off, ok
}

// stop counts a node and reports whether the walk must end.
func (w *walker) stop() bool {
	if w.err != nil {
		return true
	}
	w.nodes++
	if w.nodes&0x1fff == 0 {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			return true
		}
	}
	if w.nodes > w.opt.MaxNodes {
		w.f.Truncated = true
		return true
	}
	return false
}

func (w *walker) full(n int) bool {
	if n >= w.opt.MaxFacts {
		w.f.Truncated = true
		return true
	}
	return false
}

// ---- statements ----

// loopBody walks a loop's body one loop deeper (Call.LoopDepth).
func (w *walker) loopBody(body js.IStmt) {
	w.loops++
	w.stmt(body)
	w.loops--
}

func (w *walker) stmt(n js.IStmt) {
	if n == nil || w.stop() {
		return
	}
	switch n := n.(type) {
	case *js.BlockStmt:
		for _, s := range n.List {
			w.stmt(s)
		}
	case *js.ExprStmt:
		w.expr(n.Value, 0)
	case *js.VarDecl:
		for i := range n.List {
			w.bindingElement(&n.List[i])
		}
	case *js.IfStmt:
		w.expr(n.Cond, 0)
		w.stmt(n.Body)
		w.stmt(n.Else)
	case *js.DoWhileStmt:
		w.loopBody(n.Body)
		w.expr(n.Cond, 0)
	case *js.WhileStmt:
		w.expr(n.Cond, 0)
		w.loopBody(n.Body)
	case *js.ForStmt:
		w.expr(n.Init, 0)
		w.expr(n.Cond, 0)
		w.expr(n.Post, 0)
		if n.Body != nil {
			w.loopBody(n.Body)
		}
	case *js.ForInStmt:
		w.expr(n.Init, 0)
		w.expr(n.Value, 0)
		if n.Body != nil {
			w.loopBody(n.Body)
		}
	case *js.ForOfStmt:
		w.expr(n.Init, 0)
		w.expr(n.Value, 0)
		if n.Body != nil {
			w.loopBody(n.Body)
		}
	case *js.SwitchStmt:
		w.expr(n.Init, 0)
		for i := range n.List {
			c := &n.List[i]
			w.expr(c.Cond, 0)
			for _, s := range c.List {
				w.stmt(s)
			}
		}
	case *js.ReturnStmt:
		w.expr(n.Value, 0)
	case *js.ThrowStmt:
		w.expr(n.Value, 0)
	case *js.TryStmt:
		if n.Body != nil {
			w.stmt(n.Body)
		}
		w.binding(n.Binding)
		if n.Catch != nil {
			w.stmt(n.Catch)
		}
		if n.Finally != nil {
			w.stmt(n.Finally)
		}
	case *js.LabelledStmt:
		w.stmt(n.Value)
	case *js.WithStmt:
		w.expr(n.Cond, 0)
		w.stmt(n.Body)
	case *js.FuncDecl:
		w.function(n.Name, &n.Params, &n.Body)
	case *js.ClassDecl:
		w.class(n)
	case *js.ImportStmt:
		if off, ok := w.consumeAbs(n.Module); ok {
			if mod, ok := unquote(n.Module); ok {
				w.addImport(Import{Module: moduleName(mod), Static: true, Pos: w.pos(off)})
			}
		}
	case *js.ExportStmt:
		if n.Module != nil {
			if off, ok := w.consumeAbs(n.Module); ok {
				if mod, ok := unquote(n.Module); ok {
					w.addImport(Import{Module: moduleName(mod), Static: true, Pos: w.pos(off)})
				}
			}
		}
		if n.Decl != nil {
			w.expr(n.Decl, 0)
		}
	}
}

func (w *walker) function(name *js.Var, params *js.Params, body *js.BlockStmt) {
	if name != nil {
		w.declare(name)
	}
	saved := w.loops
	w.loops = 0
	for i := range params.List {
		w.bindingElement(&params.List[i])
	}
	w.binding(params.Rest)
	w.stmt(body)
	w.loops = saved
}

func (w *walker) class(n *js.ClassDecl) {
	if n.Name != nil {
		w.declare(n.Name)
	}
	w.expr(n.Extends, 0)
	for _, el := range n.List {
		switch {
		case el.StaticBlock != nil:
			w.stmt(el.StaticBlock)
		case el.Method != nil:
			w.propertyName(&el.Method.Name.PropertyName)
			w.function(nil, &el.Method.Params, &el.Method.Body)
		default:
			w.propertyName(&el.Field.Name.PropertyName)
			w.expr(el.Field.Init, 0)
		}
	}
}

func (w *walker) declare(v *js.Var) {
	w.consumeVar(v)
	if len(w.idents) < maxIdents {
		w.idents[string(v.Data)] = struct{}{}
	}
}

func (w *walker) bindingElement(b *js.BindingElement) {
	w.binding(b.Binding)
	w.expr(b.Default, 0)
}

func (w *walker) binding(b js.IBinding) {
	switch b := b.(type) {
	case *js.Var:
		w.declare(b)
	case *js.BindingArray:
		for i := range b.List {
			w.bindingElement(&b.List[i])
		}
		w.binding(b.Rest)
	case *js.BindingObject:
		for i := range b.List {
			item := &b.List[i]
			if item.Key != nil {
				w.propertyName(item.Key)
			}
			w.bindingElement(&item.Value)
		}
		if b.Rest != nil {
			w.declare(b.Rest)
		}
	}
}

func (w *walker) propertyName(p *js.PropertyName) {
	if p == nil {
		return
	}
	if p.IsComputed() {
		w.expr(p.Computed, 0)
		return
	}
	if p.Literal.TokenType == js.StringToken {
		w.literal(&p.Literal)
		return
	}
	w.consumeAbs(p.Literal.Data)
}

// ---- expressions ----

// Expression context flags.
const (
	inAdd   = 1 << iota // operand of a string/number +
	inArith             // operand of an arithmetic operator
)

func (w *walker) expr(n js.IExpr, ctx int) {
	if n == nil || w.stop() {
		return
	}
	switch n := n.(type) {
	case *js.Var:
		w.consumeVar(n)
	case *js.LiteralExpr:
		w.literal(n)
	case *js.GroupExpr:
		w.expr(n.X, ctx&inArith)
	case *js.CommaExpr:
		for _, x := range n.List {
			w.expr(x, 0)
		}
	case *js.DotExpr:
		w.expr(n.X, 0)
		if _, ok := w.consumeAbs(dotName(n.Y)); !ok {
			if v, ok := n.Y.(*js.Var); ok {
				w.consumeVar(v)
			}
		}
	case *js.IndexExpr:
		w.expr(n.X, 0)
		w.expr(n.Y, 0)
	case *js.CallExpr:
		w.call(n, ctx)
	case *js.NewExpr:
		w.newExpr(n)
	case *js.BinaryExpr:
		w.binary(n, ctx)
	case *js.UnaryExpr:
		c := 0
		if n.Op == js.NegToken || n.Op == js.PosToken {
			c = ctx & inArith
		}
		w.expr(n.X, c)
	case *js.CondExpr:
		w.expr(n.Cond, 0)
		w.expr(n.X, 0)
		w.expr(n.Y, 0)
	case *js.TemplateExpr:
		w.expr(n.Tag, 0)
		for _, p := range n.List {
			w.templatePart(p.Value)
			w.expr(p.Expr, 0)
		}
		w.templatePart(n.Tail)
		if ctx&inAdd == 0 && n.Tag == nil && len(n.List) > 0 {
			w.fold(n, w.cursor)
		}
	case *js.FuncDecl:
		w.function(n.Name, &n.Params, &n.Body)
	case *js.ArrowFunc:
		w.function(nil, &n.Params, &n.Body)
	case *js.MethodDecl:
		w.propertyName(&n.Name.PropertyName)
		w.function(nil, &n.Params, &n.Body)
	case *js.ClassDecl:
		w.class(n)
	case *js.ObjectExpr:
		for i := range n.List {
			p := &n.List[i]
			w.propertyName(p.Name)
			w.expr(p.Value, 0)
			w.expr(p.Init, 0)
		}
	case *js.ArrayExpr:
		if t := w.tables[n]; t != nil {
			w.addStringArray(t, w.start(n))
		}
		for _, el := range n.List {
			w.expr(el.Value, 0)
		}
	case *js.YieldExpr:
		w.expr(n.X, 0)
	case *js.VarDecl: // export const …
		for i := range n.List {
			w.bindingElement(&n.List[i])
		}
	}
}

func (w *walker) literal(n *js.LiteralExpr) {
	off, ok := w.consumeAbs(n.Data)
	if !ok {
		off = w.cursor
	}
	switch {
	case n.TokenType == js.StringToken:
		s, ok := unquote(n.Data)
		if ok {
			w.addString(String{Value: s, Pos: w.pos(off)})
		}
	case n.TokenType == js.RegExpToken:
		src, flags := splitRegexp(n.Data)
		if !w.full(len(w.f.Regexps)) {
			w.f.Regexps = append(w.f.Regexps, Regexp{Source: src, Flags: flags, Pos: w.pos(off)})
		}
	case js.IsNumeric(n.TokenType):
		w.f.Numbers.Literals++
		if isHexLiteral(n) {
			w.f.Numbers.Hex++
		}
	}
}

func splitRegexp(b []byte) (string, string) {
	s := string(b)
	i := strings.LastIndexByte(s, '/')
	if len(s) < 2 || s[0] != '/' || i <= 0 {
		return s, ""
	}
	return s[1:i], s[i+1:]
}

func isHexLiteral(n *js.LiteralExpr) bool {
	return len(n.Data) > 2 && n.Data[0] == '0' && (n.Data[1] == 'x' || n.Data[1] == 'X')
}

func (w *walker) templatePart(raw []byte) {
	off, ok := w.consumeAbs(raw)
	if !ok {
		return
	}
	if s := templateText(raw); s != "" {
		w.addString(String{Value: s, Pos: w.pos(off)})
	}
}

func (w *walker) addString(s String) {
	if w.full(len(w.f.Strings)) {
		return
	}
	s.Len = len(s.Value)
	if len(s.Value) > maxKeepString {
		s.Value = truncUTF8(s.Value, maxKeepString)
	}
	w.f.Strings = append(w.f.Strings, s)
}

func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func (w *walker) addImport(i Import) {
	if !w.full(len(w.f.Imports)) {
		w.f.Imports = append(w.f.Imports, i)
	}
}

func (w *walker) addStringArray(t *stringArray, off int) {
	if _, ok := w.saIndex[t]; ok {
		return
	}
	w.saIndex[t] = len(w.f.StringArrays)
	w.f.StringArrays = append(w.f.StringArrays, StringArray{
		Pos: w.pos(off), Len: len(t.strs), Decoders: t.decoders,
		Rotation: t.rot, Rotated: t.rotated, Resolved: t.resolved, Encoding: t.encoding,
	})
}

// fold records a string the evaluator can build from an expression that
// is not a plain literal (concatenations, decoders, char codes).
func (w *walker) fold(n js.IExpr, off int) {
	v := w.e.eval(n, 0)
	if v.kind != KindString || v.strs != nil || v.buffer {
		return
	}
	w.addString(String{Value: v.str, Folded: true, Origin: v.origin, Pos: w.pos(off)})
}

func (w *walker) binary(n *js.BinaryExpr, ctx int) {
	switch n.Op {
	case js.EqToken, js.OrEqToken, js.AndEqToken, js.NullishEqToken:
		w.assign(n)
	}
	arith := n.Op == js.AddToken || n.Op == js.SubToken || n.Op == js.MulToken || n.Op == js.DivToken
	start := -1
	if (n.Op == js.AddToken && ctx&inAdd == 0) || (arith && ctx&inArith == 0) {
		start = w.start(n)
	}
	if arith && ctx&inArith == 0 && hexArith(n, 0) {
		if w.f.Numbers.HexArith == 0 {
			w.f.Numbers.HexArithPos = w.pos(start)
		}
		w.f.Numbers.HexArith++
	}
	c := 0
	if n.Op == js.AddToken {
		c |= inAdd
	}
	if arith {
		c |= inArith
	}
	w.expr(n.X, c)
	w.expr(n.Y, c)
	if n.Op == js.AddToken && ctx&inAdd == 0 {
		w.fold(n, start)
	}
}

// hexArith reports whether an arithmetic expression has only hexadecimal
// literal leaves (at least two).
func hexArith(n js.IExpr, d int) bool {
	leaves := 0
	var ok func(n js.IExpr, d int) bool
	ok = func(n js.IExpr, d int) bool {
		if d > 32 {
			return false
		}
		switch x := n.(type) {
		case *js.LiteralExpr:
			leaves++
			return isHexLiteral(x)
		case *js.UnaryExpr:
			return x.Op == js.NegToken && ok(x.X, d+1)
		case *js.GroupExpr:
			return ok(x.X, d+1)
		case *js.BinaryExpr:
			switch x.Op {
			case js.AddToken, js.SubToken, js.MulToken, js.DivToken:
				return ok(x.X, d+1) && ok(x.Y, d+1)
			}
		}
		return false
	}
	return ok(n, d) && leaves >= 2
}

func (w *walker) assign(n *js.BinaryExpr) {
	var targets []string
	switch t := n.X.(type) {
	case *js.DotExpr:
		if v := w.e.eval(t, 0); v.kind == KindPath {
			targets = append(targets, v.str)
		}
	case *js.IndexExpr:
		if base := w.e.eval(t.X, 0); base.kind == KindPath {
			for _, k := range w.e.keyAlternatives(t.Y) {
				targets = append(targets, joinPath(base.str, k))
			}
		}
	case *js.Var:
		if v := canon(t); v.Decl == js.NoDecl {
			targets = append(targets, string(v.Data))
		}
	}
	if len(targets) == 0 {
		return
	}
	pos := w.pos(w.start(n.X))
	value := w.summarize(n.Y)
	budget := 200
	hidden := w.e.origins(n.X, &budget, 0)
	for _, t := range targets {
		w.addAssign(Assign{Target: t, Via: "=", Value: value, NameOrigin: hidden, Pos: pos})
	}
}

// ignoredTarget drops writes that say nothing about behaviour and would
// crowd out the rest: CommonJS exports.
func ignoredTarget(t string) bool {
	return t == "module.exports" || t == "exports" || strings.HasPrefix(t, "module.exports.") || strings.HasPrefix(t, "exports.") ||
		strings.HasPrefix(t, "module.exports[") || strings.HasPrefix(t, "exports[")
}

func (w *walker) call(n *js.CallExpr, ctx int) {
	off := w.start(n)
	if lit, ok := n.X.(*js.LiteralExpr); ok && lit.TokenType == js.ImportToken {
		// import(…)
		imp := Import{Dynamic: true, Pos: w.pos(off)}
		if len(n.Args.List) > 0 {
			if v := w.e.eval(n.Args.List[0].Value, 0); v.kind == KindString {
				imp.Module = moduleName(v.str)
			} else {
				imp.Computed = true
				imp.Expr = w.excerpt(w.start(n.Args.List[0].Value))
			}
		}
		w.addImport(imp)
	} else {
		callee, args, op := w.e.resolveCallee(n.X, n.Args.List, 0)
		if op == nil {
			w.recordCall(callee, args, false, off)
		}
	}
	w.expr(n.X, 0)
	for _, a := range n.Args.List {
		w.expr(a.Value, 0)
	}
	if ctx&inAdd == 0 {
		w.fold(n, off)
	}
}

func (w *walker) newExpr(n *js.NewExpr) {
	off := w.start(n)
	callee := w.e.eval(n.X, 0)
	var args []js.Arg
	if n.Args != nil {
		args = n.Args.List
	}
	w.recordCall(callee, args, true, off)
	w.expr(n.X, 0)
	for _, a := range args {
		w.expr(a.Value, 0)
	}
}

// localMethods are methods worth recording even on a receiver the
// evaluator cannot name (a local variable): Callee is then "~x.method".
var localMethods = map[string]bool{
	"startsWith": true, "endsWith": true, "includes": true, "indexOf": true, "replace": true, "replaceAll": true,
	"match": true, "matchAll": true, "exec": true, "execSync": true, "spawn": true, "spawnSync": true,
	"execFile": true, "execFileSync": true, "fork": true, "runInThisContext": true, "runInNewContext": true,
	"runInContext": true, "_compile": true, "write": true, "writeFile": true, "writeFileSync": true,
	"readFile": true, "readFileSync": true, "sendBeacon": true,
}

func (w *walker) recordCall(callee val, args []js.Arg, isNew bool, off int) {
	if callee.kind != KindPath {
		i := strings.LastIndexByte(callee.str, '.')
		if callee.kind != KindUnknown || !strings.HasPrefix(callee.str, "~") || i < 0 || !localMethods[callee.str[i+1:]] {
			return
		}
	}
	pos := w.pos(off)
	c := Call{Callee: callee.str, New: isNew, ArgCount: len(args), LoopDepth: w.loops, Pos: pos}
	for i := 0; i < len(args) && i < maxArgs; i++ {
		if args[i].Rest {
			c.Args = append(c.Args, Value{})
			continue
		}
		c.Args = append(c.Args, w.summarize(args[i].Value))
	}
	switch c.Callee {
	case "require", "module.require", "process.mainModule.require":
		if !isNew && len(args) > 0 {
			imp := Import{Pos: pos}
			if a := c.Arg(0); a.Kind == KindString {
				imp.Module = moduleName(a.Str)
			} else {
				imp.Computed = true
				imp.Expr = w.excerpt(w.start(args[0].Value))
			}
			w.addImport(imp)
		}
	case "Object.defineProperty", "Reflect.defineProperty", "Reflect.set":
		if len(args) >= 2 {
			if t := w.e.eval(args[0].Value, 0); t.kind == KindPath {
				budget := 200
				hidden := w.e.origins(args[0].Value, &budget, 0) | w.e.origins(args[1].Value, &budget, 0)
				for _, k := range w.e.keyAlternatives(args[1].Value) {
					w.addAssign(Assign{Target: joinPath(t.str, k), Via: c.Callee, Value: c.Arg(2), NameOrigin: hidden, Pos: pos})
				}
			}
		}
	case "Object.defineProperties", "Object.assign":
		if len(args) >= 2 {
			t := w.e.eval(args[0].Value, 0)
			if t.kind == KindPath {
				for _, a := range args[1:] {
					if o, ok := a.Value.(*js.ObjectExpr); ok {
						for i := range o.List {
							p := &o.List[i]
							if p.Name == nil || p.Spread {
								continue
							}
							if k, ok := w.e.propKey(p.Name); ok {
								w.addAssign(Assign{Target: joinPath(t.str, k), Via: c.Callee, Value: w.summarize(p.Value), Pos: pos})
							}
						}
					}
				}
			}
		}
	}
	if !w.full(len(w.f.Calls)) {
		w.f.Calls = append(w.f.Calls, c)
	}
}

func (w *walker) addAssign(a Assign) {
	if a.Target == "" || ignoredTarget(a.Target) || w.full(len(w.f.Assigns)) {
		return
	}
	w.f.Assigns = append(w.f.Assigns, a)
}

// summarize describes an argument or assigned value for the facts.
func (w *walker) summarize(n js.IExpr) Value {
	if n == nil {
		return Value{}
	}
	v := w.e.eval(n, 0)
	budget := 400
	out := Value{Kind: v.kind, Num: v.num, Origin: v.origin | w.e.origins(n, &budget, 0)}
	switch v.kind {
	case KindString:
		if v.strs != nil {
			out.Kind = KindArray
			break
		}
		out.Len = len(v.str)
		out.Str = truncUTF8(v.str, maxArgString)
	case KindPath, KindRegexp:
		out.Str = v.str
		if strings.HasPrefix(v.str, "new Proxy") {
			if ne, ok := n.(*js.NewExpr); ok && ne.Args != nil && len(ne.Args.List) > 0 {
				if t := w.e.eval(ne.Args.List[0].Value, 0); t.kind == KindPath {
					out.Wraps = t.str
				}
			}
		}
	case KindObject:
		for i := range v.obj.List {
			p := &v.obj.List[i]
			if p.Name == nil || p.Spread || len(out.Keys) >= 16 {
				continue
			}
			if k, ok := w.e.propKey(p.Name); ok {
				out.Keys = append(out.Keys, k)
			}
		}
	case KindFunction:
	default:
		if strings.HasPrefix(v.str, "~") && len(v.str) < 128 {
			out.Str = v.str
		}
	}
	return out
}

// excerpt returns a short piece of source from off, for messages.
func (w *walker) excerpt(off int) string {
	if off < 0 || off >= len(w.src) {
		return ""
	}
	end := min(len(w.src), off+80)
	if i := bytes.IndexByte(w.src[off:end], '\n'); i >= 0 {
		end = off + i
	}
	return truncUTF8(strings.ToValidUTF8(string(w.src[off:end]), "\uFFFD"), 80)
}

func (w *walker) finish() {
	if w.e.exhausted {
		w.f.Truncated = true
	}
	identStats(&w.f.Idents, w.idents)
	for t, i := range w.saIndex {
		w.f.StringArrays[i].Calls = t.calls
	}
}

func identStats(s *IdentStats, names map[string]struct{}) {
	s.Declared = len(names)
	var hex []string
	for n := range names {
		switch {
		case isHexName(n):
			s.HexNamed++
			hex = append(hex, n)
		case len(n) <= 2:
			s.Short++
		}
		if len(n) > 1 && strings.Trim(n, "$_") == "" {
			s.DollarUnderscore++
		}
		for i := 0; i < len(n); i++ {
			if n[i] >= 0x80 {
				s.NonASCII++
				if confusableName(n) {
					s.Confusable = append(s.Confusable, n)
				}
				break
			}
		}
	}
	sort.Strings(hex)
	if len(hex) > 5 {
		hex = hex[:5]
	}
	s.Examples = hex
	sort.Strings(s.Confusable)
	if len(s.Confusable) > maxConfusable {
		s.Confusable = s.Confusable[:maxConfusable]
	}
}

const maxConfusable = 8

// isHexName matches obfuscator.io's identifiers: _0x followed by 4–6 hex
// digits (e.g. _0x1a2b3c).
func isHexName(n string) bool {
	if len(n) < 7 || len(n) > 9 || n[:3] != "_0x" {
		return false
	}
	for i := 3; i < len(n); i++ {
		if _, ok := hexDigit(n[i]); !ok {
			return false
		}
	}
	return true
}
