package js

import (
	"github.com/tdewolff/parse/v2/js"
)

// collect is the first pass: it records what every variable is bound to
// (declarations, destructuring, imports, single assignments) so that the
// second pass can resolve a use wherever it appears, hoisting included.
type collector struct {
	e           *evaluator
	assigned    map[*js.Var]int
	firstAssign map[*js.Var]js.IExpr
	iifes       []*js.CallExpr
	calls       []*js.CallExpr
	funcs       []js.INode // enclosing functions
	nodes       int
	maxNodes    int
}

func collect(e *evaluator, ast *js.AST, maxNodes int) (iifes, calls []*js.CallExpr) {
	c := &collector{e: e, assigned: map[*js.Var]int{}, firstAssign: map[*js.Var]js.IExpr{}, maxNodes: maxNodes}
	js.Walk(c, ast)
	for v, rhs := range c.firstAssign {
		if _, ok := e.bind[v]; ok {
			continue
		}
		if _, ok := e.funcs[v]; ok {
			continue
		}
		if c.assigned[v] == 1 {
			e.bind[v] = rhs
			delete(e.mutated, v) // var x; … x = value: one write, a constant
		}
	}
	c.imports(ast)
	return c.iifes, c.calls
}

func (c *collector) Enter(n js.INode) js.IVisitor {
	c.nodes++
	if c.nodes > c.maxNodes {
		c.e.exhausted = true
		return nil
	}
	switch n := n.(type) {
	case *js.VarDecl:
		for _, b := range n.List {
			c.binding(b.Binding, b.Default)
			if _, ok := b.Binding.(*js.Var); ok {
				switch f := b.Default.(type) {
				case *js.FuncDecl:
					c.helper(&f.Params)
				case *js.ArrowFunc:
					c.helper(&f.Params)
				}
			}
		}
	case *js.MethodDecl:
		c.helper(&n.Params)
	case *js.FuncDecl:
		if n.Name != nil {
			c.e.funcs[canon(n.Name)] = newFuncRef(&n.Params, &n.Body, n)
			c.helper(&n.Params)
		}
		c.funcs = append(c.funcs, n)
	case *js.ArrowFunc:
		c.funcs = append(c.funcs, n)
	case *js.BinaryExpr:
		if v, ok := n.X.(*js.Var); ok && (n.Op == js.SubEqToken || (n.Op == js.EqToken && isSubOf(n.Y, v))) {
			// i = i - K: the index arithmetic of a string-table decoder.
			// Only functions around such a site are scanned as decoders.
			for _, f := range c.funcs {
				c.e.offsetFuncs[f] = true
			}
		}
		if v, ok := n.X.(*js.Var); ok && isAssignOp(n.Op) {
			v = canon(v)
			c.assigned[v]++
			c.e.mutated[v] = true
			if _, ok := c.firstAssign[v]; !ok && n.Op == js.EqToken {
				c.firstAssign[v] = n.Y
			}
		}
	case *js.UnaryExpr:
		switch n.Op {
		case js.PreIncrToken, js.PreDecrToken, js.PostIncrToken, js.PostDecrToken:
			if v, ok := n.X.(*js.Var); ok {
				c.e.mutated[canon(v)] = true
			}
		}
	case *js.CallExpr:
		if _, ok := iifeFunc(n.X); ok && len(n.Args.List) >= 2 {
			c.iifes = append(c.iifes, n)
		}
		if len(n.Args.List) > 0 {
			c.calls = append(c.calls, n)
		}
	case *js.ForOfStmt:
		if vd, ok := n.Init.(*js.VarDecl); ok && len(vd.List) == 1 {
			if v, ok := vd.List[0].Binding.(*js.Var); ok {
				c.e.forOf[canon(v)] = n.Value
			}
		}
	}
	return c
}

func (c *collector) Exit(n js.INode) {
	switch n.(type) {
	case *js.FuncDecl, *js.ArrowFunc:
		if len(c.funcs) > 0 {
			c.funcs = c.funcs[:len(c.funcs)-1]
		}
	}
}

// helper records the parameters of a named function or method.
func (c *collector) helper(p *js.Params) {
	for _, b := range p.List {
		if v, ok := b.Binding.(*js.Var); ok {
			c.e.helperParams[canon(v)] = true
		}
	}
}

func isSubOf(y js.IExpr, v *js.Var) bool {
	b, ok := y.(*js.BinaryExpr)
	if !ok || b.Op != js.SubToken {
		return false
	}
	x, ok := b.X.(*js.Var)
	return ok && canon(x) == canon(v)
}

func (c *collector) binding(b js.IBinding, init js.IExpr) {
	if init == nil {
		return
	}
	switch b := b.(type) {
	case *js.Var:
		v := canon(b)
		if _, ok := c.e.bind[v]; ok {
			c.e.mutated[v] = true
		}
		c.e.bind[v] = init
	case *js.BindingObject:
		for _, item := range b.List {
			v, ok := item.Value.Binding.(*js.Var)
			if !ok {
				continue
			}
			key := string(v.Data)
			if item.Key != nil {
				k, ok := c.e.propKey(item.Key)
				if !ok {
					continue
				}
				key = k
			}
			c.e.destruct[canon(v)] = destructure{src: init, key: key}
		}
	}
}

// imports binds names declared by import statements to module paths.
func (c *collector) imports(ast *js.AST) {
	byName := map[string]*js.Var{}
	for _, v := range ast.BlockStmt.Scope.Declared {
		byName[string(v.Data)] = canon(v)
	}
	bind := func(name []byte, path string) {
		// The parser does not declare import bindings: their uses are
		// undeclared variables, matched by name.
		c.e.importNames[string(name)] = path
		if v := byName[string(name)]; v != nil {
			c.e.imports[v] = path
		}
	}
	for _, s := range ast.BlockStmt.List {
		imp, ok := s.(*js.ImportStmt)
		if !ok {
			continue
		}
		mod, ok := unquote(imp.Module)
		if !ok {
			continue
		}
		base := "require('" + moduleName(mod) + "')"
		if imp.Default != nil {
			bind(imp.Default, base)
		}
		for _, a := range imp.List {
			if a.Binding == nil {
				continue
			}
			name := string(a.Name)
			if a.Name == nil {
				name = string(a.Binding)
			}
			switch name {
			case "*", "default":
				bind(a.Binding, base)
			default:
				if q, ok := unquote(a.Name); ok {
					name = q
				}
				bind(a.Binding, joinPath(base, name))
			}
		}
	}
}

// iifeFunc unwraps (function(){…})(), !function(){…}() and friends.
func iifeFunc(x js.IExpr) (*funcRef, bool) {
	for i := 0; i < 4; i++ {
		switch n := x.(type) {
		case *js.GroupExpr:
			x = n.X
			continue
		case *js.UnaryExpr:
			x = n.X
			continue
		case *js.FuncDecl:
			return newFuncRef(&n.Params, &n.Body, n), true
		case *js.ArrowFunc:
			return newFuncRef(&n.Params, &n.Body, n), true
		}
		break
	}
	return nil, false
}

// bindParams gives a local function's parameter the global path or string
// every call site passes it (function hook(p) {…} hook(window.ethereum)):
// a cheap interprocedural step that sees through helpers written to hide
// which object is patched. Call sites that disagree leave it unbound.
func (e *evaluator) bindParams(calls []*js.CallExpr) {
	type binding struct {
		v        val
		conflict bool
	}
	found := map[*js.Var]*binding{}
	limit := e.maxSteps / 2
	for _, c := range calls {
		if e.steps > limit {
			break
		}
		if !e.localCallee(c.X) {
			continue
		}
		callee, args, op := e.resolveCallee(c.X, c.Args.List, 0)
		if op != nil || callee.fn == nil {
			continue
		}
		for i, p := range callee.fn.params {
			if p == nil || i >= len(args) || args[i].Rest || e.bound(p) {
				continue
			}
			a := e.eval(args[i].Value, 0)
			if a.kind != KindPath && a.kind != KindString {
				continue
			}
			b := found[p]
			if b == nil {
				found[p] = &binding{v: a}
				continue
			}
			if b.v.kind != a.kind || b.v.str != a.str {
				b.conflict = true
			}
		}
	}
	for p, b := range found {
		if !b.conflict {
			e.params[p] = b.v
		}
	}
	e.memo = map[*js.Var]val{}
	e.varOrig = map[*js.Var]Origin{}
	e.steps = 0
	e.exhausted = false
}

func (e *evaluator) bound(v *js.Var) bool {
	if _, ok := e.bind[v]; ok {
		return true
	}
	if _, ok := e.destruct[v]; ok {
		return true
	}
	if _, ok := e.forOf[v]; ok {
		return true
	}
	return false
}

// keyAlternatives lists the property names an expression may take: one
// constant, or each string of a constant array a for-of loop walks
// (for (const m of ["request", "send"]) Object.defineProperty(p, m, …)).
func (e *evaluator) keyAlternatives(n js.IExpr) []string {
	if v, ok := n.(*js.Var); ok {
		if arr, ok := e.forOf[canon(v)]; ok {
			a := e.eval(arr, 0)
			var out []string
			switch {
			case a.strs != nil:
				out = append(out, a.strs...)
			case a.kind == KindArray:
				for _, el := range a.arr.List {
					s := e.eval(el.Value, 0)
					if s.kind != KindString || el.Spread {
						return nil
					}
					out = append(out, s.str)
				}
			}
			if len(out) > 32 {
				out = out[:32]
			}
			return out
		}
	}
	v := e.eval(n, 0)
	switch v.kind {
	case KindString:
		if v.strs == nil {
			return []string{v.str}
		}
	case KindNumber:
		return []string{numberString(v.num)}
	}
	return nil
}

func isAssignOp(op js.TokenType) bool {
	switch op {
	case js.EqToken, js.AddEqToken, js.SubEqToken, js.MulEqToken, js.DivEqToken, js.ModEqToken, js.ExpEqToken,
		js.LtLtEqToken, js.GtGtEqToken, js.GtGtGtEqToken, js.BitAndEqToken, js.BitOrEqToken, js.BitXorEqToken,
		js.AndEqToken, js.OrEqToken, js.NullishEqToken:
		return true
	}
	return false
}

// localCallee is a cheap test for calls that may reach a local function:
// a variable bound to a function or an expression, or a member of a
// local object literal (obfuscator proxy tables). Calls of module and
// global members are skipped without evaluation.
func (e *evaluator) localCallee(x js.IExpr) bool {
	for i := 0; i < 8; i++ {
		switch n := x.(type) {
		case *js.GroupExpr:
			x = n.X
			continue
		case *js.Var:
			v := canon(n)
			_, f := e.funcs[v]
			_, b := e.bind[v]
			return f || b
		case *js.DotExpr:
			x = n.X
			continue
		case *js.IndexExpr:
			x = n.X
			continue
		case *js.FuncDecl, *js.ArrowFunc:
			return true
		}
		return false
	}
	return false
}
