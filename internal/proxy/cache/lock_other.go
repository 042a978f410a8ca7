//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

// lockDir is a no-op where flock is unavailable: two processes sharing a
// directory would each trust an index the other changes, so do not.
func lockDir(string) (func(), error) { return func() {}, nil }
