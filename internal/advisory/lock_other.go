//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package advisory

// lockDir is a no-op where flock is unavailable: the CURRENT rename still
// keeps the database consistent, but two simultaneous imports may each
// remove the other's temporary folder and fail.
func lockDir(string) (func(), error) { return func() {}, nil }
