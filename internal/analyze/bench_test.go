package analyze

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// ordinaryPackage generates a package of ordinary JavaScript — CommonJS
// and ES modules, classes, async code, template literals, regular
// expressions, configuration tables and one minified bundle — of about
// size bytes, deterministically.
func ordinaryPackage(size int) Package {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"user", "config", "request", "value", "item", "index", "cache", "state", "result", "options", "stream", "buffer", "token", "path", "name"}
	w := func() string { return words[r.IntN(len(words))] }
	p := Package{Name: "bench", Version: "1.0.0"}
	p.Files = append(p.Files, File{Path: "package.json", Data: []byte(`{"name":"bench","version":"1.0.0","main":"lib/index.js","scripts":{"test":"node test.js"}}`)})
	total := 0
	for n := 0; total < size; n++ {
		var b strings.Builder
		switch n % 4 {
		case 0: // CommonJS module
			fmt.Fprintf(&b, "'use strict';\nconst path = require('path');\nconst { promisify } = require('util');\nconst %sLib = require('./%s');\n\n", w(), w())
			for i := 0; i < 40; i++ {
				fmt.Fprintf(&b, "function %s%d(%s, %s = {}) {\n  if (!%s) throw new TypeError(`missing %s ${%d}`);\n  const out = [];\n  for (let i = 0; i < %s.length; i++) {\n    if (/^[a-z0-9_-]+$/i.test(%s[i])) out.push(path.join('%s', %s[i]));\n  }\n  return out.map((x) => x.toLowerCase()).filter(Boolean);\n}\n\n",
					w(), i, w(), "opts", w(), w(), i, w(), w(), w(), w())
			}
			b.WriteString("module.exports = { run: promisify(setImmediate) };\n")
		case 1: // ES module with a class
			fmt.Fprintf(&b, "import { EventEmitter } from 'node:events';\nimport %s from './%s.js';\n\nexport class %sStore extends EventEmitter {\n  #items = new Map();\n", w(), w(), strings.ToUpper(w()[:1])+w())
			for i := 0; i < 40; i++ {
				fmt.Fprintf(&b, "  async %s%d(key, value) {\n    const prev = this.#items.get(key) ?? null;\n    this.#items.set(key, { value, at: Date.now(), tag: `%s-${key}` });\n    this.emit('change', { key, prev });\n    return prev?.value;\n  }\n", w(), i, w())
			}
			b.WriteString("}\nexport default new Map();\n")
		case 2: // configuration table
			b.WriteString("module.exports = {\n")
			for i := 0; i < 150; i++ {
				fmt.Fprintf(&b, "  %s%d: { enabled: %v, level: %d, pattern: '%s/%s/*', retries: 0x%x },\n", w(), i, i%2 == 0, r.IntN(10), w(), w(), r.IntN(255))
			}
			b.WriteString("};\n")
		case 3: // minified bundle chunk
			b.WriteString(`!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).lib=t()}(this,function(){"use strict";`)
			for i := 0; i < 120; i++ {
				fmt.Fprintf(&b, `function %c%d(e,t){var n=e.length,r=[];for(var o=0;o<n;o++)t(e[o],o)&&r.push(e[o]);return r.length?r:null}var %c%d={a:%d,b:"%s",c:function(e){return e*%d}};`, 'a'+rune(i%26), i, 'k'+rune(i%10), i, i, w(), i)
			}
			b.WriteString(`return{f:a0}});` + "\n")
		}
		data := b.String()
		total += len(data)
		p.Files = append(p.Files, File{Path: fmt.Sprintf("lib/m%03d.js", n), Data: []byte(data)})
	}
	return p
}

// BenchmarkAnalyze measures the whole engine (facts, rules, score) over
// ordinary code; MB/s counts JavaScript bytes.
func BenchmarkAnalyze(b *testing.B) {
	p := ordinaryPackage(4 << 20)
	n := 0
	for _, f := range p.Files {
		n += len(f.Data)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r, err := Analyze(context.Background(), p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Verdict != Clean {
			b.Fatalf("ordinary code scored %s: %+v", r.Verdict, r.Reasons)
		}
	}
	reportCPU(b, n, cpu0)
}

// reportCPU adds MB per CPU-second (all cores, GC included): the
// throughput one core sustains, independent of how busy the machine is.
func reportCPU(b *testing.B, n int, cpu0 time.Duration) {
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
	}
}

// BenchmarkAnalyzeOneWorker is the same on a single core.
func BenchmarkAnalyzeOneWorker(b *testing.B) {
	p := ordinaryPackage(4 << 20)
	n := 0
	for _, f := range p.Files {
		n += len(f.Data)
	}
	b.SetBytes(int64(n))
	opt := Options{}
	opt.Facts.Workers = 1
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Analyze(context.Background(), p, opt); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, n, cpu0)
}

func TestOrdinaryPackageIsClean(t *testing.T) {
	r, err := Analyze(context.Background(), ordinaryPackage(256<<10), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Clean || len(r.Stats.ParseFailures) > 0 {
		t.Fatalf("verdict %s, parse failures %v, findings %+v", r.Verdict, r.Stats.ParseFailures, r.Findings)
	}
}
