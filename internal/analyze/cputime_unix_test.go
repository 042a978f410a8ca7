//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package analyze

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time (GC included): on a busy
// machine it measures the work far more steadily than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
