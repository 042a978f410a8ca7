package registry

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Sentinel errors; test with errors.Is. The concrete errors below carry the
// details (URL, status, digests).
var (
	// ErrNotFound: the registry answered 404 (no such package, version or
	// tarball).
	ErrNotFound = errors.New("not found")
	// ErrIntegrity: the bytes received do not match the integrity the
	// packument promised.
	ErrIntegrity = errors.New("integrity mismatch")
	// ErrTooLarge: the response is larger than the configured limit.
	ErrTooLarge = errors.New("response too large")
	// ErrNoIntegrity: there is nothing to verify a tarball against (no
	// dist.integrity and no dist.shasum).
	ErrNoIntegrity = errors.New("no integrity to verify against")
	// ErrSignature: a registry signature does not verify, or its key is
	// unknown or expired.
	ErrSignature = errors.New("registry signature invalid")
)

// StatusError is an HTTP response the client did not accept.
type StatusError struct {
	URL        string
	StatusCode int
	// Body is the start of the response body (at most 512 bytes), which for
	// the npm registry is usually {"error":"…"}.
	Body string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %d", redact(e.URL), e.StatusCode)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true for 404 and 410 responses.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && (e.StatusCode == 404 || e.StatusCode == 410)
}

// IntegrityError is a tarball whose digest differs from the expected one.
type IntegrityError struct {
	URL string
	// Want is the integrity from the packument (or the caller); Got is the
	// digest of the bytes received, in the same algorithm.
	Want, Got string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s: integrity mismatch: want %s, got %s", redact(e.URL), e.Want, e.Got)
}

func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }

// TooLargeError is a response over the configured size limit.
type TooLargeError struct {
	URL   string
	Limit int64
	// Size is the declared Content-Length when the server sent one, or -1
	// when the limit was hit while reading.
	Size int64
}

func (e *TooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("%s: %d bytes exceeds the limit of %d", redact(e.URL), e.Size, e.Limit)
	}
	return fmt.Sprintf("%s: body exceeds the limit of %d bytes", redact(e.URL), e.Limit)
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// transientError marks a failure worth retrying (a body cut short, a
// connection reset while reading).
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// redact hides the password of a URL with credentials (https://user:pass@…)
// in messages: private registries sometimes carry them in tarball URLs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
