package yarnlock

import (
	"context"
	"os"
	"syscall"
	"testing"
	"github.com/goccy/go-yaml/parser"
	"time"
)

func cpu() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	for _, f := range []string{corpusDir + "/monorepo-large/yarn-v1/yarn.lock", corpusDir + "/monorepo-large/yarn-berry/yarn.lock"} {
		data, _ := os.ReadFile(f)
		for range 5 {
			Reader{}.Parse(context.Background(), f, data)
		}
		const n = 100
		c0 := cpu()
		for range n {
			Reader{}.Parse(context.Background(), f, data)
		}
		t.Logf("%s: %v CPU per parse", f, (cpu()-c0)/n)
	}
}

func TestZZCPUGoccy(t *testing.T) {
	data, _ := os.ReadFile(corpusDir + "/monorepo-large/yarn-berry/yarn.lock")
	const n = 5
	c0 := cpu()
	for range n {
		parser.ParseBytes(data, 0)
	}
	t.Logf("goccy AST: %v CPU per parse", (cpu()-c0)/n)
}
