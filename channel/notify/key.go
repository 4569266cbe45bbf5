package notify

import (
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a parsed Notify API key.
type Key struct {
	// Name is what the key was called when made; it may hold hyphens.
	Name string
	// ServiceID is the service's UUID: the JWT's issuer.
	ServiceID string
	// Secret is the UUID that signs the JWTs; it never leaves this
	// process.
	Secret string
}

// uuidLen is the length of a UUID in its 8-4-4-4-12 text form.
const uuidLen = 36

var errKey = errors.New("notify: the API key is not {key name}-{service id}-{secret key}, as Notify's API integration page shows it")

// ParseKey reads an API key as Notify issues it:
// {key name}-{service id}-{secret key}, the last two UUIDs. Notify's own
// clients take the two UUIDs from the end, since the name may hold
// hyphens; so does this, and it checks they are UUIDs so that a key cut
// short in copying fails here rather than as a 403 at the first send.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	n := len(s)
	if n < 2*uuidLen+1 || s[n-uuidLen-1] != '-' {
		return Key{}, errKey
	}
	k := Key{ServiceID: s[n-2*uuidLen-1 : n-uuidLen-1], Secret: s[n-uuidLen:]}
	if n > 2*uuidLen+1 {
		if n == 2*uuidLen+2 || s[n-2*uuidLen-2] != '-' {
			return Key{}, errKey
		}
		k.Name = s[:n-2*uuidLen-2]
	}
	if !isUUID(k.ServiceID) || !isUUID(k.Secret) {
		return Key{}, errKey
	}
	return k, nil
}

// String names the key without its secret, for messages and logs.
func (k Key) String() string { return k.Name + " (service " + k.ServiceID + ")" }

// isUUID reports whether s is a UUID in 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != uuidLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// token is the bearer token for one request: a JWT signed with HS256
// and the secret, with the service id as issuer and the time it was made
// (Notify refuses one more than 30 seconds from its own clock, so a
// token is made per request, never cached).
func (k Key) token(now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": k.ServiceID, "iat": now.Unix()})
	return t.SignedString([]byte(k.Secret))
}
