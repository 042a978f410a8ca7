//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package advisory

import "time"

func cpuTime() time.Duration { return 0 }
