package js

import (
	"github.com/tdewolff/parse/v2/js"
)

// origins answers "was any part of this expression decoded at run time?"
// — the question behind decode-then-execute. It looks at the expression's
// calls (atob, Buffer.from(…, "base64"), String.fromCharCode, a string
// table decoder, a local function that itself decodes) and follows
// variables to their initialisers, within a node budget.
func (e *evaluator) origins(n js.INode, budget *int, d int) Origin {
	if n == nil || *budget <= 0 || d > 16 {
		return 0
	}
	*budget--
	var o Origin
	switch n := n.(type) {
	case *js.Var:
		v := canon(n)
		if r, ok := e.varOrig[v]; ok {
			return r
		}
		if e.originBusy[v] {
			return 0
		}
		if _, pinned := e.params[v]; e.helperParams[v] && !pinned {
			o = FromParameter
		}
		e.originBusy[v] = true
		if init, ok := e.bind[v]; ok {
			o |= e.origins(init, budget, d+1)
		} else if ds, ok := e.destruct[v]; ok {
			o |= e.origins(ds.src, budget, d+1)
		}
		delete(e.originBusy, v)
		e.varOrig[v] = o
		return o
	case *js.CallExpr:
		callee, args, op := e.resolveCallee(n.X, n.Args.List, 0)
		if op != nil {
			o |= op.origin
		} else {
			o |= e.callOrigin(callee, args)
		}
		o |= e.origins(n.X, budget, d+1)
		for _, a := range n.Args.List {
			o |= e.origins(a.Value, budget, d+1)
		}
		return o
	case *js.NewExpr:
		callee := e.eval(n.X, 0)
		if callee.kind == KindPath && callee.str == "Buffer" && n.Args != nil {
			o |= e.callOrigin(callee, n.Args.List)
		}
		if n.Args != nil {
			for _, a := range n.Args.List {
				o |= e.origins(a.Value, budget, d+1)
			}
		}
		return o
	case *js.GroupExpr:
		return e.origins(n.X, budget, d+1)
	case *js.CommaExpr:
		for _, x := range n.List {
			o |= e.origins(x, budget, d+1)
		}
		return o
	case *js.BinaryExpr:
		return e.origins(n.X, budget, d+1) | e.origins(n.Y, budget, d+1)
	case *js.UnaryExpr:
		return e.origins(n.X, budget, d+1)
	case *js.CondExpr:
		return e.origins(n.X, budget, d+1) | e.origins(n.Y, budget, d+1)
	case *js.DotExpr:
		return e.origins(n.X, budget, d+1)
	case *js.IndexExpr:
		return e.origins(n.X, budget, d+1) | e.origins(n.Y, budget, d+1)
	case *js.TemplateExpr:
		for _, p := range n.List {
			o |= e.origins(p.Expr, budget, d+1)
		}
		return o
	case *js.ArrayExpr:
		for _, el := range n.List {
			o |= e.origins(el.Value, budget, d+1)
		}
		return o
	}
	return 0
}

// callOrigin classifies one call.
func (e *evaluator) callOrigin(callee val, args []js.Arg) Origin {
	switch {
	case callee.dec != nil:
		return FromStringArray
	case callee.method == "reverse":
		return FromReverse
	case callee.fn != nil:
		return e.bodyOrigin(callee.fn)
	case callee.kind != KindPath:
		return 0
	}
	switch callee.str {
	case "atob":
		return FromBase64
	case "String.fromCharCode", "String.fromCodePoint":
		return FromCharCodes
	case "decodeURIComponent", "decodeURI", "unescape":
		return FromURIDecode
	case "Buffer.from", "Buffer":
		if len(args) >= 2 {
			enc := e.eval(args[1].Value, 0)
			if enc.kind == KindString {
				switch enc.str {
				case "base64", "base64url":
					return FromBase64
				case "hex":
					return FromHex
				}
			}
		}
	}
	return 0
}

// bodyOrigin tells whether a local function decodes: its result is then
// treated as decoded (FromDecoderCall).
func (e *evaluator) bodyOrigin(f *funcRef) Origin {
	if f.body == nil {
		return 0
	}
	if o, ok := e.bodyOrig[f.body]; ok {
		return o
	}
	e.bodyOrig[f.body] = 0 // recursion guard
	s := &decodeScan{e: e}
	js.Walk(s, f.body)
	o := Origin(0)
	if s.found {
		o = FromDecoderCall
	}
	e.bodyOrig[f.body] = o
	return o
}

type decodeScan struct {
	e     *evaluator
	found bool
	nodes int
}

func (s *decodeScan) Enter(n js.INode) js.IVisitor {
	s.nodes++
	if s.found || s.nodes > 5000 {
		return nil
	}
	if c, ok := n.(*js.CallExpr); ok {
		callee := s.e.eval(c.X, 0)
		if callee.fn == nil && s.e.callOrigin(callee, c.Args.List) != 0 {
			s.found = true
			return nil
		}
	}
	return s
}

func (s *decodeScan) Exit(js.INode) {}
