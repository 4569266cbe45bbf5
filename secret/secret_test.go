package secret

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, err := NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(`{"token":"abc"}`)
	a, err := k.Seal(secret, []byte("mastodon-main"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.Seal(secret, []byte("mastodon-main"))
	if a == b {
		t.Error("two seals of the same value are identical: nonce is not random")
	}
	if strings.Contains(a, "abc") || !strings.HasPrefix(a, "sp1:"+KeyID(key(1))+":") {
		t.Errorf("sealed = %q", a)
	}
	got, err := k.Open(a, []byte("mastodon-main"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := []struct {
		name    string
		sealed  string
		context string
	}{
		{"other record", a, "bluesky"},
		{"tampered", a[:len(a)-2] + "AA", "mastodon-main"},
		{"truncated", a[:12], "mastodon-main"},
		{"not sealed", "hunter2", "mastodon-main"},
		{"key id swapped", "sp1:" + KeyID(key(2)) + a[len("sp1:")+16:], "mastodon-main"},
		{"bad base64", "sp1:" + KeyID(key(1)) + ":!!!", "mastodon-main"},
	}
	for _, tt := range tests {
		if _, err := k.Open(tt.sealed, []byte(tt.context)); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%s: Open err = %v, want EINVALID", tt.name, err)
		}
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	old, _ := NewKeyring(key(1))
	sealed, _ := old.Seal([]byte("token"), []byte("x"))

	// Without the old key, the value cannot be opened: the message names
	// the key so the operator knows which one is missing.
	fresh, _ := NewKeyring(key(2))
	if _, err := fresh.Open(sealed, []byte("x")); err == nil || !strings.Contains(err.Error(), KeyID(key(1))) {
		t.Errorf("open with wrong key: %v", err)
	}

	ring, _ := NewKeyring(key(2), key(1))
	if !ring.NeedsRotation(sealed) {
		t.Error("value sealed with the old key does not need rotation")
	}
	rotated, err := ring.Rotate(sealed, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if ring.NeedsRotation(rotated) || !strings.Contains(rotated, KeyID(key(2))) {
		t.Errorf("rotated = %q", rotated)
	}
	if got, err := fresh.Open(rotated, []byte("x")); err != nil || string(got) != "token" {
		t.Errorf("new key alone opens rotated value: %q, %v", got, err)
	}
	again, err := ring.Rotate(rotated, []byte("x"))
	if err != nil || again != rotated {
		t.Errorf("rotating a current value changed it: %v", err)
	}
	if _, err := ring.Rotate(rotated, []byte("y")); err == nil {
		t.Error("Rotate accepted the wrong context")
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(key(3))
	oldKey := base64.RawURLEncoding.EncodeToString(key(4))
	tests := []struct {
		name, cur, old string
		wantErr        string
	}{
		{"ok", good, "", ""},
		{"ok with old", good, " " + oldKey + ", ", ""},
		{"missing", "", "", "is not set"},
		{"short", base64.StdEncoding.EncodeToString(key(3)[:16]), "", "decodes to 16 bytes"},
		{"not base64", "!!!not-base64!!!", "", "not base64"},
		{"bad old", good, "AAAA", "SIGNPOST_SECRET_KEYS_OLD decodes to 3 bytes"},
	}
	for _, tt := range tests {
		env := map[string]string{EnvKey: tt.cur, EnvOldKeys: tt.old}
		k, err := FromEnv(func(s string) string { return env[s] })
		if tt.wantErr == "" {
			if err != nil || k.CurrentID() != KeyID(key(3)) {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	env := map[string]string{EnvKey: good, EnvOldKeys: oldKey}
	k, _ := FromEnv(func(s string) string { return env[s] })
	o, _ := NewKeyring(key(4))
	sealed, _ := o.Seal([]byte("v"), nil)
	if got, err := k.Open(sealed, nil); err != nil || string(got) != "v" {
		t.Errorf("old key from env does not open: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := NewKeyring(key(1))
	s, _ := k.Seal([]byte("seed"), nil)
	f.Add(s)
	f.Add("sp1:" + KeyID(key(1)) + ":")
	f.Add("sp1::")
	f.Fuzz(func(t *testing.T, sealed string) {
		plain, err := k.Open(sealed, nil)
		if err == nil && sealed != s && !bytes.Equal(plain, []byte("seed")) {
			// Forging a value that opens would need the key.
			t.Fatalf("forged value opened: %q", sealed)
		}
	})
}
