package js

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tdewolff/parse/v2/js"
)

// The evaluator answers "what is this expression, statically?" for the
// handful of shapes that matter to analysis: aliases of globals and
// modules, constant strings and numbers, object literals used as constant
// tables, and obfuscator.io's decoders and proxy functions. Anything else
// is unknown. It never runs code: every step is a pattern over the syntax
// tree, counted against a budget.

// val is the evaluator's internal value; Value is its exported summary.
type val struct {
	kind   Kind
	str    string // string value, regexp source, path or display name
	num    float64
	origin Origin
	strs   []string // an array of strings produced by split()

	fn     *funcRef
	obj    *js.ObjectExpr
	arr    *js.ArrayExpr
	dec    *decoder
	buffer bool // a Buffer whose bytes are str

	method string // a bound method: recv.method(…)
	recv   *val
}

type funcRef struct {
	params []*js.Var // nil entries for destructuring patterns
	rest   bool
	body   *js.BlockStmt
	node   js.INode
}

var unknown = val{}

func pathVal(p string) val { return val{kind: KindPath, str: p} }
func strVal(s string, o Origin) val {
	return val{kind: KindString, str: s, origin: o}
}
func numVal(f float64) val { return val{kind: KindNumber, num: f} }

// display names an unknown local for messages; rules never match "~".
func display(name string) val { return val{str: "~" + name} }

type destructure struct {
	src js.IExpr
	key string
}

type evaluator struct {
	bind     map[*js.Var]js.IExpr
	funcs    map[*js.Var]*funcRef
	destruct map[*js.Var]destructure
	imports  map[*js.Var]string
	// importNames maps names bound by import declarations to paths.
	importNames map[string]string
	decoders    map[*js.Var]*decoder
	forOf       map[*js.Var]js.IExpr
	mutated     map[*js.Var]bool
	// offsetFuncs are the functions containing an i = i - K site.
	offsetFuncs map[js.INode]bool
	params      map[*js.Var]val
	// helperParams are the parameters of named functions and methods
	// (function f(s){…}, const f = (s) => …, m(s){…}), as opposed to
	// inline callbacks: see FromParameter.
	helperParams map[*js.Var]bool

	memo       map[*js.Var]val
	busy       map[*js.Var]bool
	objIndex   map[*js.ObjectExpr]map[string]*js.Property
	bodyOrig   map[*js.BlockStmt]Origin
	varOrig    map[*js.Var]Origin
	originBusy map[*js.Var]bool
	proxyMemo  map[*funcRef]proxy

	steps, maxSteps   int
	folded, maxFolded int
	exhausted         bool
}

const (
	maxEvalDepth  = 48
	maxFoldString = 1 << 20 // one folded string
	maxPathLen    = 256
)

func newEvaluator(maxSteps, maxFolded int) *evaluator {
	return &evaluator{
		bind:         map[*js.Var]js.IExpr{},
		funcs:        map[*js.Var]*funcRef{},
		destruct:     map[*js.Var]destructure{},
		imports:      map[*js.Var]string{},
		importNames:  map[string]string{},
		decoders:     map[*js.Var]*decoder{},
		forOf:        map[*js.Var]js.IExpr{},
		mutated:      map[*js.Var]bool{},
		offsetFuncs:  map[js.INode]bool{},
		params:       map[*js.Var]val{},
		helperParams: map[*js.Var]bool{},
		memo:         map[*js.Var]val{},
		busy:         map[*js.Var]bool{},
		objIndex:     map[*js.ObjectExpr]map[string]*js.Property{},
		bodyOrig:     map[*js.BlockStmt]Origin{},
		varOrig:      map[*js.Var]Origin{},
		originBusy:   map[*js.Var]bool{},
		proxyMemo:    map[*funcRef]proxy{},
		maxSteps:     maxSteps,
		maxFolded:    maxFolded,
	}
}

// canon follows the parser's links between uses and the declaration.
func canon(v *js.Var) *js.Var {
	for i := 0; v.Link != nil && i < 64; i++ {
		v = v.Link
	}
	return v
}

func (e *evaluator) step() bool {
	e.steps++
	if e.steps > e.maxSteps {
		e.exhausted = true
		return false
	}
	return true
}

// globalAliases name the global object: window.fetch and fetch are the
// same function, and rules match the short form.
var globalAliases = map[string]bool{"window": true, "self": true, "globalThis": true, "global": true}

func joinPath(base, name string) string {
	if globalAliases[base] {
		if globalAliases[name] {
			return base
		}
		return memberName(name, true)
	}
	p := base + memberName(name, false)
	if len(p) > maxPathLen {
		return ""
	}
	return p
}

func memberName(name string, first bool) string {
	if isIdentName(name) {
		if first {
			return name
		}
		return "." + name
	}
	if len(name) > 48 {
		name = name[:48]
	}
	return "[" + strconv.Quote(name) + "]"
}

func isIdentName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

func moduleName(spec string) string {
	spec = strings.TrimPrefix(spec, "node:")
	if len(spec) > 200 {
		spec = spec[:200]
	}
	return spec
}

// eval evaluates an expression.
func (e *evaluator) eval(n js.IExpr, d int) val {
	if n == nil || d > maxEvalDepth || !e.step() {
		return unknown
	}
	switch n := n.(type) {
	case *js.Var:
		return e.varVal(n, d)
	case *js.LiteralExpr:
		return e.literal(n)
	case *js.GroupExpr:
		return e.eval(n.X, d+1)
	case *js.CommaExpr:
		if len(n.List) == 0 {
			return unknown
		}
		return e.eval(n.List[len(n.List)-1], d+1)
	case *js.DotExpr:
		base := e.eval(n.X, d+1)
		return e.member(base, string(dotName(n.Y)), d)
	case *js.IndexExpr:
		base := e.eval(n.X, d+1)
		key := e.eval(n.Y, d+1)
		switch key.kind {
		case KindString:
			return e.member(base, key.str, d)
		case KindNumber:
			return e.member(base, numberString(key.num), d)
		}
		if base.kind == KindPath {
			return display(base.str + "[?]")
		}
		return unknown
	case *js.CallExpr:
		callee, args, op := e.resolveCallee(n.X, n.Args.List, d)
		if op != nil {
			return *op
		}
		return e.call(callee, args, false, d)
	case *js.NewExpr:
		callee := e.eval(n.X, d+1)
		var args []js.Arg
		if n.Args != nil {
			args = n.Args.List
		}
		return e.call(callee, args, true, d)
	case *js.BinaryExpr:
		switch n.Op {
		case js.EqToken:
			return e.eval(n.Y, d+1)
		case js.AndToken, js.OrToken, js.NullishToken:
			return unknown
		}
		return e.binop(n.Op, e.eval(n.X, d+1), e.eval(n.Y, d+1))
	case *js.UnaryExpr:
		return e.unop(n.Op, e.eval(n.X, d+1))
	case *js.TemplateExpr:
		if n.Tag != nil {
			return unknown
		}
		var sb strings.Builder
		o := Origin(0)
		for _, p := range n.List {
			sb.WriteString(templateText(p.Value))
			v := e.eval(p.Expr, d+1)
			s, ok := toStr(v)
			if !ok {
				return unknown
			}
			o |= v.origin
			sb.WriteString(s)
			if sb.Len() > maxFoldString {
				return unknown
			}
		}
		sb.WriteString(templateText(n.Tail))
		if len(n.List) > 0 {
			o |= FromConcat
		}
		return e.foldedString(sb.String(), o)
	case *js.FuncDecl:
		return val{kind: KindFunction, fn: newFuncRef(&n.Params, &n.Body, n)}
	case *js.ArrowFunc:
		return val{kind: KindFunction, fn: newFuncRef(&n.Params, &n.Body, n)}
	case *js.ObjectExpr:
		return val{kind: KindObject, obj: n}
	case *js.ArrayExpr:
		return val{kind: KindArray, arr: n}
	}
	return unknown
}

// dotName is the property name of a.b (a LiteralExpr value, or a Var for
// private names a.#b).
func dotName(y js.IExpr) []byte {
	switch y := y.(type) {
	case js.LiteralExpr:
		return y.Data
	case *js.LiteralExpr:
		return y.Data
	case *js.Var:
		return y.Data
	}
	return nil
}

func newFuncRef(p *js.Params, body *js.BlockStmt, node js.INode) *funcRef {
	f := &funcRef{body: body, node: node, rest: p.Rest != nil}
	for _, b := range p.List {
		v, _ := b.Binding.(*js.Var)
		if v != nil {
			v = canon(v)
		}
		f.params = append(f.params, v)
	}
	if r, ok := p.Rest.(*js.Var); ok {
		f.params = append(f.params, canon(r))
	}
	return f
}

func (e *evaluator) foldedString(s string, o Origin) val {
	e.folded += len(s)
	if e.folded > e.maxFolded {
		e.exhausted = true
		return unknown
	}
	return strVal(s, o)
}

func (e *evaluator) literal(n *js.LiteralExpr) val {
	switch {
	case n.TokenType == js.StringToken:
		s, ok := unquote(n.Data)
		if !ok {
			return unknown
		}
		return strVal(s, 0)
	case js.IsNumeric(n.TokenType):
		f, ok := parseNumber(n.Data)
		if !ok {
			return unknown
		}
		return numVal(f)
	case n.TokenType == js.TrueToken:
		return val{kind: KindBool, num: 1}
	case n.TokenType == js.FalseToken:
		return val{kind: KindBool}
	case n.TokenType == js.NullToken:
		return val{kind: KindNull}
	case n.TokenType == js.RegExpToken:
		return val{kind: KindRegexp, str: string(n.Data)}
	case n.TokenType == js.ThisToken:
		return display("this")
	}
	return unknown
}

func (e *evaluator) varVal(v *js.Var, d int) val {
	v = canon(v)
	if r, ok := e.memo[v]; ok {
		return r
	}
	if e.busy[v] {
		return display(string(v.Data))
	}
	e.busy[v] = true
	r := e.resolveVar(v, d)
	delete(e.busy, v)
	if !e.exhausted {
		e.memo[v] = r
	}
	return r
}

func (e *evaluator) resolveVar(v *js.Var, d int) val {
	name := string(v.Data)
	if dec := e.decoders[v]; dec != nil {
		return val{kind: KindFunction, dec: dec}
	}
	if p, ok := e.imports[v]; ok {
		return pathVal(p)
	}
	if ds, ok := e.destruct[v]; ok {
		return e.member(e.eval(ds.src, d+1), ds.key, d)
	}
	if init, ok := e.bind[v]; ok {
		r := e.eval(init, d+1)
		if e.mutated[v] {
			// A variable written again (i++, s += "x", a second var) is not
			// a constant; a reference it starts as usually stays one.
			switch r.kind {
			case KindPath, KindFunction, KindObject, KindArray:
				return r
			}
			return display(name)
		}
		return r
	}
	if f, ok := e.funcs[v]; ok {
		return val{kind: KindFunction, fn: f}
	}
	if p, ok := e.params[v]; ok {
		return p
	}
	if v.Decl == js.NoDecl {
		if p, ok := e.importNames[name]; ok {
			return pathVal(p)
		}
		switch name {
		case "undefined":
			return val{kind: KindUndefined}
		case "NaN":
			return numVal(math.NaN())
		case "Infinity":
			return numVal(math.Inf(1))
		}
		return pathVal(name)
	}
	if globalAliases[name] && v.Decl == js.ArgumentDecl {
		// (function (window) { … })(window): UMD wrappers pass the global
		// object in under its own name.
		return pathVal(name)
	}
	return display(name)
}

// member evaluates base[name].
func (e *evaluator) member(base val, name string, d int) val {
	switch base.kind {
	case KindPath:
		if p := joinPath(base.str, name); p != "" {
			return pathVal(p)
		}
		return unknown
	case KindObject:
		if p := e.property(base.obj, name); p != nil {
			if m, ok := p.Value.(*js.MethodDecl); ok {
				return val{kind: KindFunction, fn: newFuncRef(&m.Params, &m.Body, m)}
			}
			return e.eval(p.Value, d+1)
		}
		return unknown
	case KindArray:
		if name == "length" {
			return numVal(float64(len(base.arr.List)))
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(base.arr.List) {
			el := base.arr.List[i]
			if el.Spread {
				return unknown
			}
			return e.eval(el.Value, d+1)
		}
		return arrayMethod(base, name)
	case KindString:
		if name == "length" && !base.buffer {
			return numVal(float64(utf16Len(base.str)))
		}
		if base.strs != nil {
			return arrayMethod(base, name)
		}
		switch name {
		case "split", "concat", "toString", "toLowerCase", "toUpperCase", "trim",
			"slice", "substring", "substr", "charAt", "replace", "replaceAll", "join", "reverse":
			b := base
			return val{method: name, recv: &b}
		}
		return unknown
	}
	if base.str != "" && len(base.str) < maxPathLen {
		return display(strings.TrimPrefix(base.str, "~") + "." + name)
	}
	return unknown
}

func arrayMethod(base val, name string) val {
	switch name {
	case "join", "reverse", "concat", "map":
		b := base
		return val{method: name, recv: &b}
	}
	return unknown
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// property finds the last property of an object literal with the key.
func (e *evaluator) property(o *js.ObjectExpr, key string) *js.Property {
	idx, ok := e.objIndex[o]
	if !ok {
		idx = map[string]*js.Property{}
		for i := range o.List {
			p := &o.List[i]
			if p.Spread || p.Name == nil {
				continue
			}
			if k, ok := e.propKey(p.Name); ok {
				idx[k] = p
			}
		}
		e.objIndex[o] = idx
	}
	return idx[key]
}

func (e *evaluator) propKey(n *js.PropertyName) (string, bool) {
	if n.IsComputed() {
		v := e.eval(n.Computed, 1)
		switch v.kind {
		case KindString:
			return v.str, true
		case KindNumber:
			return numberString(v.num), true
		}
		return "", false
	}
	switch {
	case n.Literal.TokenType == js.StringToken:
		return unquote(n.Literal.Data)
	case js.IsNumeric(n.Literal.TokenType):
		f, ok := parseNumber(n.Literal.Data)
		if !ok {
			return "", false
		}
		return numberString(f), true
	}
	return string(n.Literal.Data), true
}

// proxy describes obfuscator.io's proxy functions, which stand in for
// operators and calls: function (a, b) { return a + b; } and
// function (f, ...a) { return f(...a); }.
type proxy struct {
	kind    int // 0 none, 1 binary, 2 call through first param, 3 forward
	op      js.TokenType
	forward js.IExpr // kind 3: the callee the arguments are forwarded to
}

func (e *evaluator) proxyOf(f *funcRef) proxy {
	if p, ok := e.proxyMemo[f]; ok {
		return p
	}
	p := proxyShape(f)
	e.proxyMemo[f] = p
	return p
}

func proxyShape(f *funcRef) proxy {
	if f.body == nil {
		return proxy{}
	}
	var ret *js.ReturnStmt
	for i, s := range f.body.List {
		switch s := s.(type) {
		case *js.VarDecl:
			continue
		case *js.ReturnStmt:
			if i == len(f.body.List)-1 {
				ret = s
			}
		}
	}
	if ret == nil || ret.Value == nil {
		return proxy{}
	}
	isParam := func(x js.IExpr, i int) bool {
		v, ok := x.(*js.Var)
		return ok && i < len(f.params) && f.params[i] != nil && canon(v) == f.params[i]
	}
	switch r := ret.Value.(type) {
	case *js.BinaryExpr:
		if len(f.params) == 2 && isParam(r.X, 0) && isParam(r.Y, 1) && r.Op != js.EqToken {
			return proxy{kind: 1, op: r.Op}
		}
	case *js.CallExpr:
		if isParam(r.X, 0) {
			for i, a := range r.Args.List {
				if !isParam(a.Value, i+1) {
					return proxy{}
				}
			}
			return proxy{kind: 2}
		}
		for i, a := range r.Args.List {
			if !isParam(a.Value, i) {
				return proxy{}
			}
		}
		if len(r.Args.List) == len(f.params) {
			return proxy{kind: 3, forward: r.X}
		}
	}
	return proxy{}
}

// resolveCallee evaluates a callee, looking through proxy functions. When
// the call is really an operator (a binary proxy), op holds its value.
func (e *evaluator) resolveCallee(x js.IExpr, args []js.Arg, d int) (val, []js.Arg, *val) {
	callee := e.eval(x, d+1)
	for hop := 0; hop < 4 && callee.fn != nil; hop++ {
		p := e.proxyOf(callee.fn)
		switch p.kind {
		case 1:
			if len(args) != 2 || args[0].Rest || args[1].Rest {
				return callee, args, nil
			}
			r := e.binop(p.op, e.eval(args[0].Value, d+1), e.eval(args[1].Value, d+1))
			return callee, args, &r
		case 2:
			if len(args) == 0 {
				return callee, args, nil
			}
			callee, args = e.eval(args[0].Value, d+1), args[1:]
		case 3:
			callee = e.eval(p.forward, d+1)
		default:
			return callee, args, nil
		}
	}
	return callee, args, nil
}

// call evaluates a call of callee with args.
func (e *evaluator) call(callee val, args []js.Arg, isNew bool, d int) val {
	arg := func(i int) val {
		if i < len(args) && !args[i].Rest {
			return e.eval(args[i].Value, d+1)
		}
		return val{kind: KindUndefined}
	}
	if callee.dec != nil {
		return e.decode(callee.dec, arg(0), arg(1))
	}
	if callee.method != "" && callee.recv != nil {
		return e.methodCall(*callee.recv, callee.method, args, d)
	}
	if callee.kind != KindPath {
		return unknown
	}
	switch callee.str {
	case "require", "module.require", "process.mainModule.require":
		if isNew {
			break
		}
		a := arg(0)
		if a.kind == KindString {
			return pathVal("require('" + moduleName(a.str) + "')")
		}
		return display("require(?)")
	case "String.fromCharCode", "String.fromCodePoint":
		var sb strings.Builder
		for i := range args {
			v := arg(i)
			if v.kind != KindNumber || i > 1<<16 {
				return unknown
			}
			sb.WriteRune(validRune(rune(uint32(v.num))))
		}
		return e.foldedString(sb.String(), FromCharCodes)
	case "atob":
		a := arg(0)
		if a.kind != KindString {
			return unknown
		}
		b, ok := decodeBase64(a.str)
		if !ok {
			return unknown
		}
		return e.foldedString(bytesString(b), a.origin|FromBase64)
	case "Buffer.from", "Buffer":
		return e.bufferFrom(arg(0), arg(1))
	case "decodeURIComponent", "decodeURI", "unescape":
		a := arg(0)
		if a.kind != KindString {
			return unknown
		}
		s, err := url.PathUnescape(a.str)
		if err != nil {
			return unknown
		}
		return e.foldedString(s, a.origin|FromURIDecode)
	case "parseInt":
		a := arg(0)
		radix := 0
		if r := arg(1); r.kind == KindNumber {
			radix = int(r.num)
		}
		if s, ok := toStr(a); ok {
			return numVal(jsParseInt(s, radix))
		}
		return unknown
	case "Number":
		if f, ok := toNumber(arg(0)); ok {
			return numVal(f)
		}
		return unknown
	case "String":
		a := arg(0)
		if s, ok := toStr(a); ok {
			return strVal(s, a.origin)
		}
		return unknown
	}
	if isNew {
		return pathVal("new " + callee.str + "()")
	}
	if len(callee.str)+2 > maxPathLen {
		return unknown
	}
	return pathVal(callee.str + "()")
}

func (e *evaluator) bufferFrom(a, enc val) val {
	encoding := "utf8"
	if enc.kind == KindString {
		encoding = strings.ToLower(enc.str)
	}
	switch a.kind {
	case KindString:
		switch encoding {
		case "base64", "base64url":
			b, ok := decodeBase64(a.str)
			if !ok {
				return unknown
			}
			v := e.foldedString(string(b), a.origin|FromBase64)
			v.buffer = true
			return v
		case "hex":
			b, err := hex.DecodeString(a.str)
			if err != nil {
				return unknown
			}
			v := e.foldedString(string(b), a.origin|FromHex)
			v.buffer = true
			return v
		case "utf8", "utf-8", "latin1", "binary", "ascii":
			v := a
			v.buffer = true
			return v
		}
	case KindArray:
		var sb strings.Builder
		for i, el := range a.arr.List {
			if i > 1<<16 {
				return unknown
			}
			v := e.eval(el.Value, 1)
			if v.kind != KindNumber {
				return unknown
			}
			sb.WriteByte(byte(int(v.num)))
		}
		v := e.foldedString(sb.String(), FromCharCodes)
		v.buffer = true
		return v
	}
	return unknown
}

func (e *evaluator) methodCall(recv val, method string, args []js.Arg, d int) val {
	arg := func(i int) val {
		if i < len(args) && !args[i].Rest {
			return e.eval(args[i].Value, d+1)
		}
		return val{kind: KindUndefined}
	}
	if recv.strs != nil || recv.kind == KindArray {
		strs := recv.strs
		if strs == nil {
			for _, el := range recv.arr.List {
				v := e.eval(el.Value, d+1)
				if v.kind != KindString || el.Spread {
					return unknown
				}
				strs = append(strs, v.str)
			}
		}
		switch method {
		case "reverse":
			out := make([]string, len(strs))
			for i, s := range strs {
				out[len(strs)-1-i] = s
			}
			return val{kind: KindString, strs: out, origin: recv.origin | FromReverse}
		case "join":
			sep := ","
			if s := arg(0); s.kind == KindString {
				sep = s.str
			}
			return e.foldedString(strings.Join(strs, sep), recv.origin|FromConcat)
		}
		return unknown
	}
	s := recv.str
	switch method {
	case "toString":
		if recv.buffer {
			if enc := arg(0); enc.kind == KindString {
				switch strings.ToLower(enc.str) {
				case "base64":
					return strVal(base64.StdEncoding.EncodeToString([]byte(s)), recv.origin)
				case "hex":
					return strVal(hex.EncodeToString([]byte(s)), recv.origin)
				}
			}
			return strVal(bytesString([]byte(s)), recv.origin)
		}
		return strVal(s, recv.origin)
	case "toLowerCase":
		return strVal(strings.ToLower(s), recv.origin)
	case "toUpperCase":
		return strVal(strings.ToUpper(s), recv.origin)
	case "trim":
		return strVal(strings.TrimFunc(s, isJSSpace), recv.origin)
	case "concat":
		var sb strings.Builder
		sb.WriteString(s)
		o := recv.origin | FromConcat
		for i := range args {
			v := arg(i)
			t, ok := toStr(v)
			if !ok {
				return unknown
			}
			o |= v.origin
			sb.WriteString(t)
			if sb.Len() > maxFoldString {
				return unknown
			}
		}
		return e.foldedString(sb.String(), o)
	case "split":
		sep := arg(0)
		if sep.kind != KindString || len(s) > 1<<16 {
			return unknown
		}
		return val{kind: KindString, strs: strings.Split(s, sep.str), origin: recv.origin}
	case "charAt":
		i := arg(0)
		r := []rune(s)
		if i.kind == KindNumber && i.num >= 0 && int(i.num) < len(r) {
			return strVal(string(r[int(i.num)]), recv.origin)
		}
		return unknown
	case "slice", "substring", "substr":
		r := []rune(s)
		a, b := arg(0), arg(1)
		if a.kind != KindNumber {
			return unknown
		}
		start, end := int(a.num), len(r)
		if b.kind == KindNumber {
			end = int(b.num)
			if method == "substr" {
				end = start + end
			}
		}
		if method == "slice" {
			if start < 0 {
				start += len(r)
			}
			if end < 0 {
				end += len(r)
			}
		}
		start = max(0, min(start, len(r)))
		end = max(0, min(end, len(r)))
		if start > end {
			if method == "substring" {
				start, end = end, start
			} else {
				return strVal("", recv.origin)
			}
		}
		return strVal(string(r[start:end]), recv.origin)
	case "replace", "replaceAll":
		old, nw := arg(0), arg(1)
		if old.kind != KindString || nw.kind != KindString {
			return unknown
		}
		n := 1
		if method == "replaceAll" {
			n = -1
		}
		out := strings.Replace(s, old.str, nw.str, n)
		if len(out) > maxFoldString {
			return unknown
		}
		return e.foldedString(out, recv.origin|nw.origin)
	}
	return unknown
}

func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(strings.Map(func(r rune) rune {
		if isJSSpace(r) {
			return -1
		}
		return r
	}, s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// bytesString turns decoded bytes into a Go string: UTF-8 when valid,
// else one rune per byte (what atob's "binary string" holds).
func bytesString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// toStr is JavaScript's ToString for statically known primitives.
func toStr(v val) (string, bool) {
	switch v.kind {
	case KindString:
		if v.strs != nil {
			return strings.Join(v.strs, ","), true
		}
		return v.str, true
	case KindNumber:
		return numberString(v.num), true
	case KindBool:
		if v.num != 0 {
			return "true", true
		}
		return "false", true
	case KindNull:
		return "null", true
	case KindUndefined:
		return "undefined", true
	}
	return "", false
}

// toNumber is JavaScript's ToNumber for statically known primitives.
func toNumber(v val) (float64, bool) {
	switch v.kind {
	case KindNumber:
		return v.num, true
	case KindBool:
		return v.num, true
	case KindNull:
		return 0, true
	case KindUndefined:
		return math.NaN(), true
	case KindString:
		s := strings.TrimFunc(v.str, isJSSpace)
		if s == "" {
			return 0, true
		}
		if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
			if f, ok := parseNumber([]byte(s)); ok {
				return f, true
			}
			return math.NaN(), true
		}
		switch s {
		case "Infinity", "+Infinity":
			return math.Inf(1), true
		case "-Infinity":
			return math.Inf(-1), true
		}
		if strings.ContainsAny(s, "_nxXoObB") || strings.HasPrefix(strings.ToLower(s), "inf") || strings.HasPrefix(strings.ToLower(s), "nan") {
			return math.NaN(), true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN(), true
		}
		return f, true
	}
	return 0, false
}

func truthy(v val) (bool, bool) {
	switch v.kind {
	case KindBool, KindNumber:
		return v.num != 0 && !math.IsNaN(v.num), true
	case KindString:
		return v.str != "" || v.strs != nil, true
	case KindNull, KindUndefined:
		return false, true
	case KindObject, KindArray, KindFunction, KindRegexp:
		return true, true
	}
	return false, false
}

func (e *evaluator) binop(op js.TokenType, a, b val) val {
	if op == js.AddToken || op == js.AddEqToken {
		if a.kind == KindString || b.kind == KindString {
			sa, ok1 := toStr(a)
			sb, ok2 := toStr(b)
			if !ok1 || !ok2 || len(sa)+len(sb) > maxFoldString {
				return unknown
			}
			return e.foldedString(sa+sb, a.origin|b.origin|FromConcat)
		}
	}
	x, ok1 := toNumber(a)
	y, ok2 := toNumber(b)
	if !ok1 || !ok2 {
		return unknown
	}
	switch op {
	case js.AddToken, js.AddEqToken:
		return numVal(x + y)
	case js.SubToken, js.SubEqToken:
		return numVal(x - y)
	case js.MulToken, js.MulEqToken:
		return numVal(x * y)
	case js.DivToken, js.DivEqToken:
		return numVal(x / y)
	case js.ModToken, js.ModEqToken:
		return numVal(math.Mod(x, y))
	case js.ExpToken, js.ExpEqToken:
		return numVal(math.Pow(x, y))
	case js.BitAndToken:
		return numVal(float64(toInt32(x) & toInt32(y)))
	case js.BitOrToken:
		return numVal(float64(toInt32(x) | toInt32(y)))
	case js.BitXorToken:
		return numVal(float64(toInt32(x) ^ toInt32(y)))
	case js.LtLtToken:
		return numVal(float64(toInt32(x) << (uint32(toInt32(y)) & 31)))
	case js.GtGtToken:
		return numVal(float64(toInt32(x) >> (uint32(toInt32(y)) & 31)))
	case js.GtGtGtToken:
		return numVal(float64(uint32(toInt32(x)) >> (uint32(toInt32(y)) & 31)))
	case js.EqEqEqToken, js.EqEqToken:
		return boolVal(x == y)
	case js.NotEqEqToken, js.NotEqToken:
		return boolVal(x != y)
	case js.LtToken:
		return boolVal(x < y)
	case js.GtToken:
		return boolVal(x > y)
	case js.LtEqToken:
		return boolVal(x <= y)
	case js.GtEqToken:
		return boolVal(x >= y)
	}
	return unknown
}

func boolVal(b bool) val {
	if b {
		return val{kind: KindBool, num: 1}
	}
	return val{kind: KindBool}
}

func (e *evaluator) unop(op js.TokenType, a val) val {
	switch op {
	case js.NegToken:
		if f, ok := toNumber(a); ok {
			return numVal(-f)
		}
	case js.PosToken:
		if f, ok := toNumber(a); ok {
			return numVal(f)
		}
	case js.NotToken:
		if t, ok := truthy(a); ok {
			return boolVal(!t)
		}
	case js.BitNotToken:
		if f, ok := toNumber(a); ok {
			return numVal(float64(^toInt32(f)))
		}
	case js.VoidToken:
		return val{kind: KindUndefined}
	case js.TypeofToken:
		switch a.kind {
		case KindString:
			return strVal("string", 0)
		case KindNumber:
			return strVal("number", 0)
		case KindFunction:
			return strVal("function", 0)
		}
	}
	return unknown
}
