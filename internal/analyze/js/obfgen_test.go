package js

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// obfuscate writes JavaScript shaped like javascript-obfuscator's output
// (string array, offset decoder, rotation loop) for the strings the body
// refers to through ref. It is a test generator written for Vigil from
// the published shape of the tool's output, not the tool or its output:
// the variants (offset, rotation, encoding, old style) exercise the
// resolver on arrays it has never seen.
type obfOpts struct {
	offset   int
	rotation int
	encoding string // "", "base64", "rc4"
	key      string // rc4 key
	oldStyle bool   // var array + push/shift loop without checksum
}

func obfuscate(body func(ref func(string) string) string, o obfOpts) string {
	var logical []string
	index := map[string]int{}
	ref := func(s string) string {
		i, ok := index[s]
		if !ok {
			i = len(logical)
			index[s] = i
			logical = append(logical, s)
		}
		if o.encoding == "rc4" {
			return fmt.Sprintf("_0xdec(0x%x,'%s')", i+o.offset, o.key)
		}
		return fmt.Sprintf("_0xdec(0x%x)", i+o.offset)
	}
	code := body(ref)
	// Checksum strings: parseInt reads their numeric prefixes.
	checks := []string{"4417wXqcl", "88216pQoYd", "12yrTbKx", "306130LmhJe"}
	var ci []int
	for _, c := range checks {
		ci = append(ci, len(logical))
		logical = append(logical, c)
	}
	for i := 0; i < 8; i++ { // filler, as the tool adds
		logical = append(logical, fmt.Sprintf("fill%c%d", 'a'+i, i*7))
	}
	n := len(logical)
	enc := func(s string) string {
		switch o.encoding {
		case "base64":
			return obfBase64Encode(s)
		case "rc4":
			return obfBase64Encode(rc4Units(s, o.key))
		}
		return s
	}
	stored := make([]string, n)
	for k := range stored {
		stored[k] = enc(logical[((k-o.rotation)%n+n)%n])
	}
	quoted := make([]string, n)
	for i, s := range stored {
		quoted[i] = "'" + strings.ReplaceAll(s, "'", "\\'") + "'"
	}
	decodePart := ""
	switch o.encoding {
	case "base64", "rc4":
		decodePart = `const _0xalpha='abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=';let _0xo='';for(let _0xc=0,_0xb,_0xe,_0xx=0;_0xe=_0xv.charAt(_0xx++);~_0xe&&(_0xb=_0xc%4?_0xb*64+_0xe:_0xe,_0xc++%4)?_0xo+=String.fromCharCode(255&_0xb>>(-2*_0xc&6)):0){_0xe=_0xalpha.indexOf(_0xe);}_0xv=decodeURIComponent(_0xo);`
		if o.encoding == "rc4" {
			decodePart += `let _0xs=[],_0xj=0,_0xt2;for(let _0xq=0;_0xq<0x100;_0xq++){_0xs[_0xq]=_0xq;}`
		}
	}
	if o.oldStyle {
		return fmt.Sprintf(`var _0xarr=[%s];(function(_0x1,_0x2){var _0x3=function(_0x4){while(--_0x4){_0x1['push'](_0x1['shift']());}};_0x3(++_0x2);}(_0xarr,0x%x));var _0xdec=function(_0xi,_0xk){_0xi=_0xi-0x%x;var _0xv=_0xarr[_0xi];%sreturn _0xv;};%s`,
			strings.Join(quoted, ","), o.rotation, o.offset, decodePart, code)
	}
	// Target: a/1 + (-b)/2 * (c/3) + d/4 over the checksum strings.
	a, b, c, d := jsParseInt(checks[0], 0), jsParseInt(checks[1], 0), jsParseInt(checks[2], 0), jsParseInt(checks[3], 0)
	target := a/1 + (-b)/2*(c/3) + d/4
	dcall := func(i int) string {
		if o.encoding == "rc4" {
			return fmt.Sprintf("_0xd(0x%x,'%s')", i+o.offset, o.key)
		}
		return fmt.Sprintf("_0xd(0x%x)", i+o.offset)
	}
	expr := fmt.Sprintf("parseInt(%s)/0x1+-parseInt(%s)/0x2*(parseInt(%s)/0x3)+parseInt(%s)/0x4",
		dcall(ci[0]), dcall(ci[1]), dcall(ci[2]), dcall(ci[3]))
	return fmt.Sprintf(`function _0xtab(){const _0xa=[%s];_0xtab=function(){return _0xa;};return _0xtab();}
function _0xdec(_0xi,_0xk){const _0xt=_0xtab();return _0xdec=function(_0xi,_0xk){_0xi=_0xi-(0x%x*0x1+-0x0);let _0xv=_0xt[_0xi];%sreturn _0xv;},_0xdec(_0xi,_0xk);}
(function(_0xf,_0xg){const _0xd=_0xdec,_0xr=_0xf();while(!![]){try{const _0xc=%s;if(_0xc===_0xg)break;else _0xr['push'](_0xr['shift']());}catch(_0xe){_0xr['push'](_0xr['shift']());}}}(_0xtab,%s));
%s`, strings.Join(quoted, ","), o.offset, decodePart, expr, numberString(target), code)
}

// obfBase64Encode is the inverse of obfBase64: UTF-8, base64 without
// padding, letters' case swapped.
func obfBase64Encode(s string) string {
	std := base64.RawStdEncoding.EncodeToString([]byte(s))
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, std)
}

// rc4Units applies RC4 over UTF-16 units, as the decoder does.
func rc4Units(s, key string) string {
	data := utf16.Encode([]rune(s))
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
	return string(utf16.Decode(out))
}
