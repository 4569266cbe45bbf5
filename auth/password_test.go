package auth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

// cheapParams keeps tests fast; the rules under test do not depend on the cost.
func cheapParams() Params { return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} }

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("gritters out at four", cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	phcForm := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phcForm.MatchString(hash) {
		t.Errorf("hash %q is not in PHC form", hash)
	}
	again, _ := HashPassword("gritters out at four", cheapParams())
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	other := cheapParams()
	other.Time = 2
	cases := []struct {
		name       string
		password   string
		want       Params
		ok, rehash bool
	}{
		{"right", "gritters out at four", cheapParams(), true, false},
		{"wrong", "gritters out at five", cheapParams(), false, false},
		{"case matters", "Gritters out at four", cheapParams(), false, false},
		{"empty", "", cheapParams(), false, false},
		{"right, parameters moved on", "gritters out at four", other, true, true},
		{"wrong, parameters moved on", "nope nope nope", other, false, false},
	}
	for _, tc := range cases {
		ok, rehash, err := VerifyPassword(hash, tc.password, tc.want)
		if err != nil || ok != tc.ok || rehash != tc.rehash {
			t.Errorf("%s: VerifyPassword = %v, %v, %v; want %v, %v, nil", tc.name, ok, rehash, err, tc.ok, tc.rehash)
		}
	}
}

func TestDefaultParamsMeetOWASP(t *testing.T) {
	p := DefaultParams()
	// OWASP's minimum: m ≥ 19 MiB with t ≥ 2, p = 1.
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads != 1 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Errorf("DefaultParams = %+v, below OWASP's argon2id minimum", p)
	}
}

func TestParsePHC(t *testing.T) {
	t.Parallel()
	good, _ := HashPassword("a long enough passphrase", cheapParams())
	salt, key := strings.Split(good, "$")[4], strings.Split(good, "$")[5]
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"ours", good, true},
		{"empty", "", false},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"parameters reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, false},
		{"missing parameter", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, false},
		{"extra field", good + "$x", false},
		{"no key", "$argon2id$v=19$m=64,t=1,p=1$" + salt, false},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, false},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, false},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, false},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, false},
		{"threads overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key, false},
		{"memory too small for threads", "$argon2id$v=19$m=64,t=1,p=9$" + salt + "$" + key, false},
		{"memory over a gibibyte", "$argon2id$v=19$m=2097152,t=1,p=1$" + salt + "$" + key, false},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967297,t=1,p=1$" + salt + "$" + key, false},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, false},
		{"url base64", "$argon2id$v=19$m=64,t=1,p=1$" + strings.NewReplacer("+", "-", "/", "_").Replace(salt+"-_") + "$" + key, false},
		{"line break in key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:8] + "\r\n" + key[8:], false},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key, false},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAA", false},
	}
	for _, tc := range cases {
		_, err := parsePHC(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: parsePHC(%q) error = %v, want ok=%v", tc.name, tc.in, err, tc.ok)
		}
		if !tc.ok {
			if ok, _, err := VerifyPassword(tc.in, "a long enough passphrase", cheapParams()); ok || err == nil {
				t.Errorf("%s: VerifyPassword accepted a malformed hash", tc.name)
			}
		}
	}
}

// FuzzParsePHC: the parser never panics, and what it accepts is exactly
// what encodePHC writes back, so no two strings parse to the same hash.
func FuzzParsePHC(f *testing.F) {
	good, _ := HashPassword("a long enough passphrase", cheapParams())
	for _, s := range []string{good, "", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2id$v=19$m=,t=,p=$a$b",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		if err := h.params.check(); err != nil {
			t.Fatalf("parsePHC(%q) accepted out-of-bounds parameters: %v", s, err)
		}
		if back := encodePHC(h); back != s {
			t.Fatalf("parsePHC(%q) round-trips to %q", s, back)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	cases := []struct {
		password, email string
		ok              bool
	}{
		{"gritters out at four", "jo.bloggs@northdale.gov.uk", true},
		{"correct-horse-9-staple", "jo.bloggs@northdale.gov.uk", true},
		{"ÉtéÉtéÉtéÉté", "jo.bloggs@northdale.gov.uk", true}, // 12 characters, more bytes
		{"short", "jo.bloggs@northdale.gov.uk", false},
		{"elevenchars", "jo.bloggs@northdale.gov.uk", false},
		{"Password1234", "jo.bloggs@northdale.gov.uk", false},
		{"CorrectHorseBatteryStaple", "jo.bloggs@northdale.gov.uk", false},
		{"aaaaaaaaaaaaaaa", "jo.bloggs@northdale.gov.uk", false},
		{"abcdefghijklmnop", "jo.bloggs@northdale.gov.uk", false},
		{"9876543210987", "jo.bloggs@northdale.gov.uk", true},
		{"987654321098", "jo.bloggs@northdale.gov.uk", true},
		{"3210987654321", "jo.bloggs@northdale.gov.uk", true},
		{"zyxwvutsrqpo", "jo.bloggs@northdale.gov.uk", false},
		{"jo.bloggs-winter-2026", "jo.bloggs@northdale.gov.uk", false},
		{"joanna winter nights", "jo@northdale.gov.uk", true},
		{strings.Repeat("long words ", 30), "jo@northdale.gov.uk", false},
		{"bad utf8 \xff\xfe padding", "jo@northdale.gov.uk", false},
	}
	for _, tc := range cases {
		err := CheckPassword(tc.password, tc.email)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", tc.password, err, tc.ok)
		}
		if err != nil && signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("CheckPassword(%q) code = %s, want %s", tc.password, signpost.ErrorCode(err), signpost.EINVALID)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"Jo.Bloggs@Northdale.gov.uk", "jo.bloggs@northdale.gov.uk"},
		{"  comms@northdale.gov.uk\n", "comms@northdale.gov.uk"},
		{"first+tag@northdale.gov.uk", "first+tag@northdale.gov.uk"},
		{"Jo <jo@northdale.gov.uk>", ""},
		{"jo@localhost", ""},
		{"jo@[127.0.0.1]", ""},
		{"@northdale.gov.uk", ""},
		{"jo", ""},
		{"", ""},
		{"a@b.c, d@e.f", ""},
		{strings.Repeat("a", 250) + "@b.co", ""},
	}
	for _, tc := range cases {
		got, err := NormaliseEmail(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzNormaliseEmail: never panics, and a normalised address normalises to
// itself, so lookups by a stored address always find it.
func FuzzNormaliseEmail(f *testing.F) {
	for _, s := range []string{"Jo@Northdale.gov.uk", " a@b.co ", "<a@b.co>", "\"a b\"@c.de", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormaliseEmail(s)
		if err != nil {
			return
		}
		again, err := NormaliseEmail(got)
		if err != nil || again != got {
			t.Fatalf("NormaliseEmail(%q) = %q, which normalises to %q, %v", s, got, again, err)
		}
		if got != strings.ToLower(got) || got != strings.TrimSpace(got) {
			t.Fatalf("NormaliseEmail(%q) = %q is not trimmed lower case", s, got)
		}
	})
}
