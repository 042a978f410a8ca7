//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package analyze

import "time"

func cpuTime() time.Duration { return 0 }
