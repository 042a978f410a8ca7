package js

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzExtract checks that fact extraction never panics, stays within its
// caps and reports positions inside the input, whatever the input.
func FuzzExtract(f *testing.F) {
	seeds := []string{
		`const cp = require('child_process'); cp.exec('id')`,
		`window.fetch = async function (u) { return orig(u) }`,
		`Object.defineProperty(window.ethereum, 'request', { value: f })`,
		"x = `a${b}c` + 'd' + String.fromCharCode(101)",
		`eval(atob('ZXZhbA=='))`,
		`import x from 'y'; export * from 'z'; import('w')`,
		`class A { #p = 1; static { this.q = 2 } m() { return this.#p } }`,
		`a = /re[/]g.test(s) ? 1 : 2; b = c / d / e`,
		"#!/usr/bin/env node\nreturn 1",
		`interface T { a: string }`,
		obfuscate(hookBody, obfOpts{offset: 0x1a3, rotation: 7}),
		obfuscate(hookBody, obfOpts{offset: 0x12, rotation: 2, encoding: "rc4", key: "ab"}),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.js"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		facts, err := Extract(ctx, src, Options{MaxFacts: 1000})
		if err != nil {
			t.Fatalf("error without cancellation: %v", err)
		}
		if len(facts.Calls) > 1000 || len(facts.Assigns) > 1000 || len(facts.Strings) > 1000 || len(facts.Regexps) > 1000 || len(facts.Imports) > 1000 {
			t.Fatalf("caps exceeded")
		}
		check := func(p Pos) {
			if p.Offset < 0 || p.Offset > len(src) || p.Line < 0 {
				t.Fatalf("position %+v outside a %d-byte input", p, len(src))
			}
		}
		for _, c := range facts.Calls {
			check(c.Pos)
		}
		for _, a := range facts.Assigns {
			check(a.Pos)
		}
		for _, s := range facts.Strings {
			check(s.Pos)
			if !utf8.ValidString(s.Value) {
				t.Fatalf("invalid UTF-8 in string fact %q", s.Value)
			}
		}
	})
}
