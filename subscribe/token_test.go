package subscribe

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
)

func testSigner(t testing.TB, b byte) *Signer {
	t.Helper()
	s, err := NewSigner(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)
	s := testSigner(t, 1)
	confirm := Token{Purpose: PurposeConfirm, Subscriber: 42, Request: 3, Expires: now.Add(48 * time.Hour)}
	manage := Token{Purpose: PurposeManage, Subscriber: 42}
	enc := s.Sign(confirm, "ann@example.org")
	if len(enc) != TokenChars || strings.ContainsAny(enc, "+/=") {
		t.Fatalf("token %q: %d chars, want %d URL-safe", enc, len(enc), TokenChars)
	}
	flip := func(tok string, i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		token   string
		email   string
		purpose Purpose
		at      time.Time
		ok      bool
	}{
		{"confirm", enc, "ann@example.org", PurposeConfirm, now, true},
		{"just before expiry", enc, "ann@example.org", PurposeConfirm, now.Add(48 * time.Hour), true},
		{"expired", enc, "ann@example.org", PurposeConfirm, now.Add(48*time.Hour + time.Second), false},
		{"another address", enc, "bob@example.org", PurposeConfirm, now, false},
		{"used to manage", enc, "ann@example.org", PurposeManage, now, false},
		{"manage", s.Sign(manage, "ann@example.org"), "ann@example.org", PurposeManage, now.AddDate(5, 0, 0), true},
		{"other key", testSigner(t, 2).Sign(manage, "ann@example.org"), "ann@example.org", PurposeManage, now, false},
		{"changed id", s.Sign(Token{Purpose: PurposeManage, Subscriber: 43}, "ann@example.org")[:20] + s.Sign(manage, "ann@example.org")[20:], "ann@example.org", PurposeManage, now, false},
		{"flipped mac", flip(enc, TokenChars-3), "ann@example.org", PurposeConfirm, now, false},
	}
	for _, tt := range tests {
		tok, err := ParseToken(tt.token)
		if err == nil {
			err = s.Verify(tok, tt.email, tt.purpose, tt.at)
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%s: code %q, want EINVALID", tt.name, signpost.ErrorCode(err))
		}
	}
	got, err := ParseToken(enc)
	if err != nil || got.Subscriber != 42 || got.Request != 3 || !got.Expires.Equal(confirm.Expires) || got.Purpose != PurposeConfirm {
		t.Errorf("parsed %+v, %v", got, err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", TokenChars), strings.Repeat("*", TokenChars), enc + "A", enc[:TokenChars-1] + "!"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
	if _, err := NewSigner([]byte("too short")); err == nil {
		t.Error("NewSigner accepted a 9-byte key")
	}
}

// FuzzParseToken checks that no input panics the parser, that whatever it
// accepts re-encodes to the same bytes (so there is one spelling of each
// token), and that nothing it accepts verifies without the key.
func FuzzParseToken(f *testing.F) {
	s := testSigner(f, 1)
	f.Add(s.Sign(Token{Purpose: PurposeManage, Subscriber: 1}, "a@b.example"))
	f.Add(s.Sign(Token{Purpose: PurposeConfirm, Subscriber: 1 << 40, Request: 7, Expires: time.Unix(1_800_000_000, 0)}, "a@b.example"))
	f.Add(strings.Repeat("A", TokenChars))
	f.Add("")
	other := testSigner(f, 9)
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := ParseToken(in)
		if err != nil {
			return
		}
		if tok.Subscriber <= 0 || (tok.Purpose != PurposeConfirm && tok.Purpose != PurposeManage) {
			t.Fatalf("accepted %q as %+v", in, tok)
		}
		if re := other.Sign(tok, "a@b.example"); len(re) != len(in) {
			t.Fatalf("re-encoded length %d, input %d", len(re), len(in))
		}
		if tok.mac != (Token{}).mac && other.Verify(tok, "x@y.example", tok.Purpose, time.Unix(0, 0)) == nil {
			t.Fatalf("a fuzzed token verified: %q", in)
		}
	})
}
