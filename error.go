package signpost

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status code in one place.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // no such thing
	EGONE         = "gone"         // it existed but was withdrawn on purpose
	ECONFLICT     = "conflict"     // the change clashes with the current state
	EUNAUTHORIZED = "unauthorized" // who you are is not known
	EFORBIDDEN    = "forbidden"    // you may not do this
	EINTERNAL     = "internal"     // our fault; details are in the log only
	EUNAVAILABLE  = "unavailable"  // a dependency is down; try again later
	ETOOLARGE     = "too_large"    // the input is bigger than we accept
	ERATELIMITED  = "rate_limited" // slow down
)

// Error is an error a user may see: Message is written for them, and Code
// says what kind of failure it is. Wrap it with fmt.Errorf("…: %w") for
// context in logs; ErrorCode and ErrorMessage find it again.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other error, or "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic message so that no detail leaks to users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again later."
}
