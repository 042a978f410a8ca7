// Package js extracts facts from JavaScript source for Vigil's analysis
// rules: calls with resolved callee paths, assignments to members,
// module loads, decoded string and regular-expression literals, and the
// shapes of identifiers and numbers that give obfuscators away.
//
// Source is read through a real parser (github.com/tdewolff/parse/v2/js)
// and never executed. A small symbolic evaluator follows aliases
// (const cp = require("child_process"); const {exec: run} = cp), folds
// constant strings ("chi" + "ld_pro" + "cess", String.fromCharCode,
// atob) and resolves obfuscator.io string arrays, so that
// window[_0x2f1a(0x174)] is reported as the window.ethereum it is. When
// parsing fails, or the file is larger than Options.MaxParseBytes, a
// lexical scan records what it can and Facts says so.
//
// Work is bounded: evaluation has a step budget, every fact list a cap,
// and oversized files are sampled, so hostile input yields a bounded
// result rather than an unbounded run.
package js

// Pos is a place in the source. Line and Col are 1-based (Col counts
// bytes, which is what editors and SARIF viewers accept for ASCII code);
// Offset is 0-based. The zero Pos means unknown.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// Mode says how the facts were obtained.
type Mode string

const (
	// ModeAST: the file parsed; facts come from the syntax tree.
	ModeAST Mode = "ast"
	// ModeLexical: parsing failed (TypeScript, JSX, broken or hostile
	// code); facts come from a token scan and are less precise.
	ModeLexical Mode = "lexical"
	// ModeSampled: the file exceeded MaxParseBytes; only its first
	// SampleBytes were scanned lexically.
	ModeSampled Mode = "sampled"
)

// Facts is what one JavaScript file says about its behaviour.
type Facts struct {
	Size int
	Mode Mode
	// ParseError is set when the parser rejected the file (Mode is then
	// lexical). A parse failure is itself a fact: npm's own ecosystem
	// ships parseable JavaScript, hostile code often is not.
	ParseError *ParseError
	// Truncated is set when a cap or the evaluation budget was reached:
	// lists are then a prefix and counts lower bounds.
	Truncated bool

	Calls   []Call
	Assigns []Assign
	Imports []Import
	Strings []String
	Regexps []Regexp

	Idents  IdentStats
	Numbers NumberStats
	// StringArrays are obfuscator.io-style string tables found in the file.
	StringArrays []StringArray
}

// ParseError is where and why the parser gave up.
type ParseError struct {
	Pos     Pos
	Message string
}

// Kind is the kind of a statically known value.
type Kind string

const (
	KindUnknown   Kind = ""
	KindString    Kind = "string"
	KindNumber    Kind = "number"
	KindBool      Kind = "bool"
	KindNull      Kind = "null"
	KindUndefined Kind = "undefined"
	KindRegexp    Kind = "regexp"
	// KindPath is a reference to a global or module member whose value is
	// unknown but whose name is: "require('child_process').exec",
	// "XMLHttpRequest.prototype.open", "fetch".
	KindPath     Kind = "path"
	KindFunction Kind = "function"
	KindObject   Kind = "object"
	KindArray    Kind = "array"
)

// Origin records how a value was produced, so that rules can see a
// string decoded at run time being handed to eval.
type Origin uint16

const (
	// FromStringArray: resolved through an obfuscator string-array decoder.
	FromStringArray Origin = 1 << iota
	// FromBase64: atob, Buffer.from(…, "base64") or an obfuscator's base64.
	FromBase64
	// FromHex: Buffer.from(…, "hex").
	FromHex
	// FromCharCodes: String.fromCharCode / fromCodePoint.
	FromCharCodes
	// FromURIDecode: decodeURIComponent, decodeURI, unescape.
	FromURIDecode
	// FromReverse: split("").reverse().join("") and similar reshuffles.
	FromReverse
	// FromConcat: built by concatenating pieces.
	FromConcat
	// FromDecoderCall: returned by a local function that itself decodes
	// (calls atob, Buffer.from(…, "base64"), fromCharCode…).
	FromDecoderCall
	// FromParameter: part of the value is a parameter of the named
	// function (or method) it is computed in, and no call site in the
	// file pins that parameter to a constant. A function that decodes its
	// parameter and runs it — js_of_ocaml's caml_js_eval_string — is a
	// general helper: what it runs is whatever its callers pass, not text
	// hidden in the file. Not a decoding step itself.
	FromParameter
)

// Decoded reports whether the value was decoded at run time (as opposed
// to merely concatenated).
func (o Origin) Decoded() bool {
	return o&(FromStringArray|FromBase64|FromHex|FromCharCodes|FromURIDecode|FromReverse|FromDecoderCall) != 0
}

// String lists the origin's parts, for messages.
func (o Origin) String() string {
	names := []string{"string-array", "base64", "hex", "char-codes", "uri-decode", "reverse", "concat", "decoder-call", "parameter"}
	s := ""
	for i, n := range names {
		if o&(1<<i) != 0 {
			if s != "" {
				s += "+"
			}
			s += n
		}
	}
	return s
}

// Value summarises an argument or assigned value.
type Value struct {
	Kind Kind
	// Str is the string value (KindString, bounded), the regexp source
	// (KindRegexp) or the path (KindPath). For unknown values it may hold a
	// display name such as "~x.y" (a local variable): never matched by
	// rules.
	Str    string
	Num    float64
	Origin Origin
	// Len is the full length of a string value when Str was cut short.
	Len int
	// Keys lists the property names of an object literal (KindObject),
	// e.g. the "value"/"get" of a property descriptor.
	Keys []string
	// Wraps is, for new Proxy(target, …), the path of the target.
	Wraps string
}

// Call is one call or construction whose callee could be named.
type Call struct {
	// Callee is the canonical path: global-object prefixes (window., self.,
	// globalThis., global.) are dropped, modules are "require('name')". A
	// few telling methods called on a local the evaluator cannot name are
	// kept as "~local.method" (e.g. "~data.startsWith"); rules matching
	// global or module paths never match those.
	Callee string
	New    bool
	// Args are the first few arguments; ArgCount is the real count.
	Args     []Value
	ArgCount int
	// LoopDepth is how many loops enclose the call within its function.
	LoopDepth int
	Pos       Pos
}

// Arg returns argument i, or the zero Value.
func (c *Call) Arg(i int) Value {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return Value{}
}

// Assign is a write to a global or module member: plain assignment, or
// the same effect through Object.defineProperty, Object.assign or
// Reflect.set.
type Assign struct {
	// Target is the canonical path written, e.g. "fetch",
	// "XMLHttpRequest.prototype.open", "ethereum.request".
	Target string
	// Via is "=" (also ||=, ??=, &&=), "Object.defineProperty",
	// "Object.defineProperties", "Object.assign" or "Reflect.set".
	Via   string
	Value Value
	// NameOrigin says how the target's name was computed when it was not
	// written plainly (window[_0x1f(0x174)] has FromStringArray).
	NameOrigin Origin
	Pos        Pos
}

// Import is a module load.
type Import struct {
	// Module is the specifier ("child_process", "./lib/x.js"; "node:"
	// prefixes are dropped); empty when Computed.
	Module string
	// Computed: the specifier is not a constant (require(x)).
	Computed bool
	// Dynamic: import(…) rather than require or a static import.
	Dynamic bool
	// Static: an import declaration.
	Static bool
	Pos    Pos
	// Expr is a short excerpt of a computed specifier's source.
	Expr string
}

// String is a string literal (decoded), a template literal's text, or a
// string the evaluator folded from pieces (Folded, with its Origin).
type String struct {
	Value  string
	Len    int // full length when Value was cut short
	Folded bool
	Origin Origin
	Pos    Pos
}

// Regexp is a regular-expression literal.
type Regexp struct {
	Source string
	Flags  string
	Pos    Pos
}

// IdentStats describes the identifiers a file declares.
type IdentStats struct {
	// Declared counts distinct declared names (variables, functions,
	// parameters; in lexical mode, all identifiers); HexNamed counts those
	// shaped like _0x1a2b3c, the mark of obfuscator.io.
	Declared int
	HexNamed int
	// Short counts distinct names of one or two characters (minifiers).
	Short int
	// DollarUnderscore counts distinct names made only of $ and _ longer
	// than one character (JJEncode).
	DollarUnderscore int
	// NonASCII counts distinct names with non-ASCII letters (aaencode
	// uses halfwidth katakana).
	NonASCII int
	// Examples holds a few hex-named identifiers for evidence.
	Examples []string
	// Confusable lists (sorted, at most maxConfusable) names that mix
	// Latin letters with Cyrillic or Greek look-alikes: isАdmin with a
	// Cyrillic А reads as isAdmin.
	Confusable []string
}

// NumberStats describes numeric literals.
type NumberStats struct {
	Literals int
	Hex      int
	// HexArith counts maximal arithmetic expressions made only of
	// hexadecimal literals, like -0x1caa+0x61f*0x1+-0x9c*-0x25:
	// obfuscator.io's "numbers to expressions".
	HexArith int
	// HexArithPos is where the first one is.
	HexArithPos Pos
}

// StringArray is an obfuscator.io-style string table: a function or
// variable holding an array of strings, decoders indexing it with an
// offset, and usually a rotation loop that shuffles it at start-up.
type StringArray struct {
	Pos Pos
	Len int
	// Decoders counts the decoder functions reading the table; Calls the
	// decoder calls that were resolved to strings.
	Decoders int
	Calls    int
	// Rotation is the number of push(shift()) steps found by emulating
	// the rotation loop; Rotated tells whether a rotation loop was found,
	// Resolved whether its target was reached (decoded strings are then
	// exactly what the code sees at run time).
	Rotation int
	Rotated  bool
	Resolved bool
	// Encoding is "", "base64" or "rc4".
	Encoding string
}
