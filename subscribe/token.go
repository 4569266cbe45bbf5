package subscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/signpost-uk/signpost"
)

// Purpose says what a link may do. A confirmation link cannot unsubscribe
// and a manage link cannot confirm, so one leaked link does one thing.
type Purpose byte

// The purposes of links in e-mails.
const (
	// PurposeConfirm confirms one subscribe request; it expires.
	PurposeConfirm Purpose = 1
	// PurposeManage shows an address's subscriptions and unsubscribes
	// it. It never expires: the unsubscribe link in an e-mail from last
	// winter must still work.
	PurposeManage Purpose = 2
)

// Token is the content of a link's signed token. Nothing in it is
// personal: the MAC covers the address, which stays in the database, so a
// token for a subscriber id reused by someone else does not verify.
type Token struct {
	Purpose    Purpose
	Subscriber int64
	Request    int       // the request a confirmation confirms; 0 for manage
	Expires    time.Time // zero: never
	mac        [macLen]byte
}

const (
	tokenVersion = 1
	macLen       = 16 // 128 bits of HMAC-SHA256: far beyond guessing online
	bodyLen      = 1 + 1 + 8 + 4 + 8
	tokenLen     = bodyLen + macLen
	// TokenChars is the length of an encoded token.
	TokenChars = (tokenLen*8 + 5) / 6
)

var errBadToken = signpost.Errorf(signpost.EINVALID, "this link is not valid: check you copied all of it from the e-mail")

// ParseToken reads an encoded token without checking its MAC; Verify does.
func ParseToken(s string) (Token, error) {
	if len(s) != TokenChars {
		return Token{}, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion {
		return Token{}, errBadToken
	}
	t := Token{Purpose: Purpose(b[1])}
	if t.Purpose != PurposeConfirm && t.Purpose != PurposeManage {
		return Token{}, errBadToken
	}
	id := binary.BigEndian.Uint64(b[2:10])
	req := binary.BigEndian.Uint32(b[10:14])
	exp := binary.BigEndian.Uint64(b[14:22])
	if id == 0 || id > 1<<62 || req > 1<<30 || exp > 1<<40 {
		return Token{}, errBadToken
	}
	t.Subscriber, t.Request = int64(id), int(req)
	if exp != 0 {
		t.Expires = time.Unix(int64(exp), 0).UTC()
	}
	copy(t.mac[:], b[bodyLen:])
	return t, nil
}

// Signer makes and checks tokens with one secret key.
type Signer struct {
	key []byte
}

// NewSigner takes a key of at least 32 random bytes. Changing it breaks
// every link in every e-mail already sent, so it is configuration, kept
// like the other secrets.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("subscription token key must be at least 32 bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign encodes t for the subscriber's address.
func (s *Signer) Sign(t Token, email string) string {
	b := t.body()
	m := s.mac(b, email)
	return base64.RawURLEncoding.EncodeToString(append(b, m[:]...))
}

// Verify checks that t was signed for this address, is for purpose and
// has not expired.
func (s *Signer) Verify(t Token, email string, purpose Purpose, now time.Time) error {
	m := s.mac(t.body(), email)
	if !hmac.Equal(m[:], t.mac[:]) || t.Purpose != purpose {
		return errBadToken
	}
	if !t.Expires.IsZero() && now.After(t.Expires) {
		return signpost.Errorf(signpost.EINVALID, "this link has expired: subscribe again to get a new one")
	}
	return nil
}

func (t Token) body() []byte {
	b := make([]byte, bodyLen, tokenLen)
	b[0], b[1] = tokenVersion, byte(t.Purpose)
	binary.BigEndian.PutUint64(b[2:10], uint64(t.Subscriber))
	binary.BigEndian.PutUint32(b[10:14], uint32(t.Request))
	if !t.Expires.IsZero() {
		binary.BigEndian.PutUint64(b[14:22], uint64(t.Expires.Unix()))
	}
	return b
}

func (s *Signer) mac(body []byte, email string) [macLen]byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("signpost subscription link\x00"))
	h.Write(body)
	h.Write([]byte(email))
	var out [macLen]byte
	copy(out[:], h.Sum(nil))
	return out
}
