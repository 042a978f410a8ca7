//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package policy

import "time"

func cpuTime() time.Duration { return 0 }
