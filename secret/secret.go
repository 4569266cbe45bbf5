// Package secret encrypts channel credentials at rest with AES-256-GCM. A
// sealed value carries the id of the key that sealed it, so a Keyring
// holding the current key and older ones can open everything sealed before
// a rotation, and Rotate re-seals old values under the current key.
//
// The current key comes from SIGNPOST_SECRET_KEY (32 random bytes, base64);
// keys being retired are listed in SIGNPOST_SECRET_KEYS_OLD (comma
// separated) until every value has been rotated.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/signpost-uk/signpost"
)

// The variables a Keyring is read from.
const (
	EnvKey     = "SIGNPOST_SECRET_KEY"
	EnvOldKeys = "SIGNPOST_SECRET_KEYS_OLD"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// prefix marks the format, so a later format can be told apart.
const prefix = "sp1"

// Keyring seals with its current key and opens with any key it holds.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// KeyID names a key without revealing it: the first 8 bytes of its
// SHA-256, in hex. Deriving it from the key means operators never have to
// keep ids and keys in step.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// NewKeyring returns a keyring that seals with current and can also open
// values sealed with any of old.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{current}, old...) {
		if len(key) != KeySize {
			which := EnvKey
			if i > 0 {
				which = fmt.Sprintf("%s entry %d", EnvOldKeys, i)
			}
			return nil, signpost.Errorf(signpost.EINVALID, "%s is %d bytes; it must be %d random bytes, base64-encoded (e.g. openssl rand -base64 32)", which, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		id := KeyID(key)
		if i == 0 {
			k.current = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// FromEnv builds a keyring from SIGNPOST_SECRET_KEY and
// SIGNPOST_SECRET_KEYS_OLD, with messages that say how to fix them.
func FromEnv(getenv func(string) string) (*Keyring, error) {
	cur := strings.TrimSpace(getenv(EnvKey))
	if cur == "" {
		return nil, signpost.Errorf(signpost.EINVALID, "%s is not set: channel credentials are encrypted with it; create one with: openssl rand -base64 32", EnvKey)
	}
	key, err := decodeKey(EnvKey, cur)
	if err != nil {
		return nil, err
	}
	var old [][]byte
	for _, s := range strings.Split(getenv(EnvOldKeys), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := decodeKey(EnvOldKeys, s)
		if err != nil {
			return nil, err
		}
		old = append(old, k)
	}
	return NewKeyring(key, old...)
}

func decodeKey(name, s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, signpost.Errorf(signpost.EINVALID, "%s decodes to %d bytes; it must be %d (e.g. openssl rand -base64 32)", name, len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, signpost.Errorf(signpost.EINVALID, "%s is not base64; create one with: openssl rand -base64 32", name)
}

// CurrentID is the id of the key new values are sealed with.
func (k *Keyring) CurrentID() string { return k.current }

// Seal encrypts plaintext under the current key. context is authenticated
// but not stored (the channel's name, say), so a sealed value copied to
// another row will not open there.
func (k *Keyring) Seal(plaintext, context []byte) (string, error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, k.aad(k.current, context))
	return prefix + ":" + k.current + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed by Seal with any key of the keyring.
func (k *Keyring) Open(sealed string, context []byte) ([]byte, error) {
	id, aead, data, err := k.parse(sealed)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(data) < n+aead.Overhead() {
		return nil, signpost.Errorf(signpost.EINVALID, "sealed secret is truncated")
	}
	plain, err := aead.Open(nil, data[:n], data[n:], k.aad(id, context))
	if err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "sealed secret does not open with key %s: it was altered or belongs to another record", id)
	}
	return plain, nil
}

// NeedsRotation reports whether sealed was made with a key other than the
// current one.
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, _ := strings.Cut(strings.TrimPrefix(sealed, prefix+":"), ":")
	return id != k.current
}

// Rotate re-seals a value under the current key; values already sealed
// with it come back unchanged.
func (k *Keyring) Rotate(sealed string, context []byte) (string, error) {
	if !k.NeedsRotation(sealed) {
		if _, err := k.Open(sealed, context); err != nil {
			return "", err
		}
		return sealed, nil
	}
	plain, err := k.Open(sealed, context)
	if err != nil {
		return "", err
	}
	return k.Seal(plain, context)
}

func (k *Keyring) parse(sealed string) (string, cipher.AEAD, []byte, error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != prefix {
		return "", nil, nil, signpost.Errorf(signpost.EINVALID, "not a sealed secret (want %s:<key id>:<data>)", prefix)
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return "", nil, nil, signpost.Errorf(signpost.EINVALID, "secret was sealed with key %s, which is neither %s nor in %s", parts[1], EnvKey, EnvOldKeys)
	}
	data, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return "", nil, nil, signpost.Errorf(signpost.EINVALID, "sealed secret is not valid base64")
	}
	return parts[1], aead, data, nil
}

// aad binds the key id as well as the caller's context, so the id in the
// prefix cannot be swapped without detection.
func (k *Keyring) aad(id string, context []byte) []byte {
	return append([]byte(prefix+":"+id+":"), context...)
}
