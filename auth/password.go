package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/signpost-uk/signpost"
)

// Params are argon2id's cost settings.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int // bytes
	KeyLen  int // bytes
}

// DefaultParams follow OWASP's Password Storage Cheat Sheet: argon2id with
// 19 MiB of memory, 2 passes and 1 thread, its minimum recommended setting:
// about a tenth of a second a sign-in on a busy 2-core server
// (BenchmarkHashPassword), slow for guessing, quick for a person.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on what a stored hash may ask for, so that a corrupted or
// malicious row cannot make a sign-in allocate gigabytes or spin for
// minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
	phcPrefix  = "$argon2id$v=19$"
)

// phc is a parsed argon2id hash string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// HashPassword returns password's argon2id hash as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, both in unpadded base64.
func HashPassword(password string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	return encodePHC(phc{params: p, salt: salt, key: key}), nil
}

func (p Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB is out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d is out of range", p.Time)
	case p.Threads < 1:
		return errors.New("argon2id needs at least one thread")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d is out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d is out of range", p.KeyLen)
	}
	return nil
}

func encodePHC(h phc) string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", phcPrefix, h.params.Memory, h.params.Time, h.params.Threads,
		base64.RawStdEncoding.EncodeToString(h.salt), base64.RawStdEncoding.EncodeToString(h.key))
}

// parsePHC reads an argon2id PHC string. It accepts only what HashPassword
// writes (version 19, parameters in the order m, t, p, unpadded base64)
// within the bounds above.
func parsePHC(s string) (phc, error) {
	rest, ok := strings.CutPrefix(s, phcPrefix)
	if !ok {
		return phc{}, errors.New("not an argon2id v19 hash")
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return phc{}, errors.New("argon2id hash: want parameters, salt and key")
	}
	var h phc
	fields := strings.Split(parts[0], ",")
	if len(fields) != 3 {
		return phc{}, errors.New("argon2id hash: want m, t and p")
	}
	var nums [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return phc{}, fmt.Errorf("argon2id hash: bad %s parameter", name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, fmt.Errorf("argon2id hash: bad %s parameter", name)
		}
		nums[i] = n
	}
	if nums[2] > 255 {
		return phc{}, errors.New("argon2id hash: too many threads")
	}
	h.params.Memory, h.params.Time, h.params.Threads = uint32(nums[0]), uint32(nums[1]), uint8(nums[2])
	// The decoder skips '\r' and '\n', so check the alphabet first: one hash,
	// one spelling.
	if !isBase64(parts[1]) || !isBase64(parts[2]) {
		return phc{}, errors.New("argon2id hash: salt and key must be unpadded base64")
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[1]); err != nil {
		return phc{}, errors.New("argon2id hash: bad salt encoding")
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[2]); err != nil {
		return phc{}, errors.New("argon2id hash: bad key encoding")
	}
	h.params.SaltLen, h.params.KeyLen = len(h.salt), len(h.key)
	if err := h.params.check(); err != nil {
		return phc{}, fmt.Errorf("argon2id hash: %w", err)
	}
	return h, nil
}

func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// VerifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time, and whether the hash should be replaced
// because it was made with other parameters than want. A malformed hash is
// an error, never a match.
func VerifyPassword(encoded, password string, want Params) (ok, rehash bool, err error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	return true, h.params != want, nil
}

// Password rules, after NIST SP 800-63B: long rather than complicated, no
// composition rules, and not one everyone tries first.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256 // characters; past this it is a paste accident, and hashing it costs for nothing
)

// CheckPassword says why password is not acceptable for the account with
// the given e-mail address, or returns nil.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return signpost.Errorf(signpost.EINVALID, "the password is not valid text")
	case n < MinPasswordLen:
		return signpost.Errorf(signpost.EINVALID, "the password must be at least %d characters long", MinPasswordLen)
	case n > MaxPasswordLen:
		return signpost.Errorf(signpost.EINVALID, "the password must be at most %d characters long", MaxPasswordLen)
	}
	lower := strings.ToLower(password)
	// Short local parts ("jo@…") appear inside ordinary words, so only
	// longer ones count.
	if local, _, _ := strings.Cut(strings.ToLower(email), "@"); len(local) >= 4 && strings.Contains(lower, local) {
		return signpost.Errorf(signpost.EINVALID, "the password must not contain the e-mail address")
	}
	if isCommonPassword(lower) {
		return signpost.Errorf(signpost.EINVALID, "that password is too common: choose one nobody would guess, such as three or four random words")
	}
	return nil
}

// isCommonPassword catches the passwords of twelve characters or more that
// breach corpora show people choose most, their obvious variations, and
// passwords of one repeated character or a keyboard or number run.
func isCommonPassword(lower string) bool {
	switch lower {
	case "123456789012", "1234567890123", "12345678910", "123456789123", "111111111111",
		"000000000000", "123123123123", "password1234", "password12345", "password123!",
		"passwordpassword", "qwertyuiop12", "qwertyuiopas", "qwerty123456", "1q2w3e4r5t6y",
		"iloveyou1234", "letmein12345", "welcome12345", "welcome2025!", "welcome2026!",
		"changeme1234", "administrator", "admin1234567", "abc123456789", "abcdefghijkl",
		"trustno1trustno1", "football1234", "monkey123456", "sunshine1234", "princess1234",
		"signpost1234", "signpostsignpost", "council12345", "northdale123", "password2025",
		"password2026", "winter2025!!", "winter2026!!", "correcthorsebatterystaple":
		return true
	}
	runes := []rune(lower)
	same, up, down := true, true, true
	for i := 1; i < len(runes); i++ {
		same = same && runes[i] == runes[0]
		up = up && runes[i] == runes[i-1]+1
		down = down && runes[i] == runes[i-1]-1
	}
	return same || up || down
}
