package auth

import (
	"net/mail"
	"strings"

	"github.com/signpost-uk/signpost"
)

// NormaliseEmail returns the form of an e-mail address that accounts are
// stored and looked up by: trimmed and lower-cased. Councils' mail systems
// treat the local part without regard to case, and one account per
// mailbox matters more than RFC 5321's letter. Anything but a bare address
// (a display name, angle brackets, a group) is EINVALID.
func NormaliseEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 {
		return "", signpost.Errorf(signpost.EINVALID, "that e-mail address is too long")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", signpost.Errorf(signpost.EINVALID, "%q is not an e-mail address", s)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", signpost.Errorf(signpost.EINVALID, "%q is not an e-mail address", s)
	}
	return s, nil
}
