package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The two classes of failure. Every error a Connector returns matches one
// of them with errors.Is.
var (
	// ErrPermanent means trying again will not help: the token is revoked
	// or expired, the account may not post, or the post was rejected as
	// invalid. Delivery stops and the channel is marked unhealthy.
	ErrPermanent = errors.New("permanent channel error")
	// ErrRetryable means the same call may succeed later: rate limits,
	// server errors, timeouts. RetryAfter says when, if the network said.
	ErrRetryable = errors.New("retryable channel error")
)

// Error is a classified failure from a network.
type Error struct {
	Class      error         // ErrPermanent or ErrRetryable
	Status     int           // HTTP status, or 0 when the call did not get one
	Code       string        // the network's own error code, when it gives one
	RetryAfter time.Duration // how long the network asked us to wait; 0 if it did not say
	Message    string        // what went wrong, without the post's text
	Err        error         // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Class == ErrPermanent {
		b.WriteString("permanent: ")
	} else {
		b.WriteString("retryable: ")
	}
	b.WriteString(e.Message)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, ", %s", e.Code)
		}
		b.WriteString(")")
	} else if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap lets errors.Is find both the class and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Class}
	}
	return []error{e.Class, e.Err}
}

// Permanent returns a permanent error with a formatted message.
func Permanent(format string, args ...any) *Error {
	return &Error{Class: ErrPermanent, Message: fmt.Sprintf(format, args...)}
}

// Retryable returns a retryable error with a formatted message.
func Retryable(after time.Duration, format string, args ...any) *Error {
	return &Error{Class: ErrRetryable, RetryAfter: after, Message: fmt.Sprintf(format, args...)}
}

// IsPermanent reports whether err is classified as permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// IsRetryable reports whether err is classified as retryable.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }

// RetryAfter returns how long the network asked the caller to wait, and
// whether it said at all.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// ParseRetryAfter reads an HTTP Retry-After value: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3). A date in the past means "now" and yields
// a zero duration with ok true.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return clampDelay(time.Duration(min(n, maxDelaySeconds)) * time.Second), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampDelay(t.Sub(now)), true
}

// ParseResetEpoch reads a rate-limit reset given as Unix seconds, as X's
// x-rate-limit-reset and Mastodon's X-RateLimit-Reset (an ISO 8601 time
// there, which this also accepts) and Bluesky's ratelimit-reset do.
func ParseResetEpoch(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 1<<40 {
			return 0, false
		}
		return clampDelay(time.Unix(n, 0).Sub(now)), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return clampDelay(t.Sub(now)), true
	}
	return 0, false
}

// maxDelaySeconds caps what a network may ask for: a day is longer than any
// documented rate-limit window, and a bigger value is a bug or an attack.
const maxDelaySeconds = 24 * 60 * 60

func clampDelay(d time.Duration) time.Duration {
	return min(max(d, 0), maxDelaySeconds*time.Second)
}

// HTTPError classifies a response that was not a success. msg says what
// was being done; code is the network's own error code from the body, if
// the connector parsed one. Retry-After is honoured on 429 and 503, and the
// reset headers of each network are read when it is absent.
func HTTPError(resp *http.Response, now time.Time, msg, code string) *Error {
	e := &Error{Status: resp.StatusCode, Code: code, Message: msg}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500:
		e.Class = ErrRetryable
		e.RetryAfter = HeaderDelay(resp.Header, now)
	default:
		e.Class = ErrPermanent
	}
	return e
}

// HeaderDelay reads how long to wait from a response's headers: the
// standard Retry-After first, then the rate-limit reset headers used by X
// (x-rate-limit-reset), Mastodon (X-RateLimit-Reset) and Bluesky
// (ratelimit-reset).
func HeaderDelay(h http.Header, now time.Time) time.Duration {
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	for _, k := range []string{"X-Rate-Limit-Reset", "X-RateLimit-Reset", "RateLimit-Reset"} {
		if d, ok := ParseResetEpoch(h.Get(k), now); ok {
			return d
		}
	}
	return 0
}

// TransportError classifies a failure to get any response: timeouts,
// refused or reset connections and DNS failures are retryable; a
// cancelled context is returned as it is, since the caller chose to stop;
// anything else (a refused address, a bad URL) is permanent.
func TransportError(msg string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", msg, err)
	}
	var nerr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &nerr) && nerr.Timeout():
		return &Error{Class: ErrRetryable, Message: msg + ": timed out", Err: err}
	case errors.As(err, &dnsErr) && !dnsErr.IsNotFound:
		return &Error{Class: ErrRetryable, Message: msg + ": DNS lookup failed", Err: err}
	case errors.As(err, &opErr) && !isRefusedByPolicy(err):
		return &Error{Class: ErrRetryable, Message: msg + ": connection failed", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{Class: ErrRetryable, Message: msg + ": connection closed", Err: err}
	}
	return &Error{Class: ErrPermanent, Message: msg, Err: err}
}

// policyError is implemented by errors that mean "not allowed to connect"
// (netsafe's refusal), which no retry will change.
type policyError interface{ PolicyRefusal() bool }

func isRefusedByPolicy(err error) bool {
	var p policyError
	return errors.As(err, &p) && p.PolicyRefusal()
}

// Status returns the HTTP status a classified error came with, or 0.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Code returns the network's own error code a classified error came with,
// or "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
