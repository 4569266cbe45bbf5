package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	service = "26785a09-ab16-4eb0-8407-a37497a57506"
	secret  = "3d844edf-8d35-48ac-975b-e847b4f122b0"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want Key
		ok   bool
	}{
		{"signpost_live-" + service + "-" + secret, Key{Name: "signpost_live", ServiceID: service, Secret: secret}, true},
		{"my-live-key-" + service + "-" + secret, Key{Name: "my-live-key", ServiceID: service, Secret: secret}, true},
		{"  live-" + service + "-" + secret + "\n", Key{Name: "live", ServiceID: service, Secret: secret}, true},
		{service + "-" + secret, Key{ServiceID: service, Secret: secret}, true},
		{strings.ToUpper("live-" + service + "-" + secret), Key{Name: "LIVE", ServiceID: strings.ToUpper(service), Secret: strings.ToUpper(secret)}, true},
		{"", Key{}, false},
		{secret, Key{}, false},
		{"live-" + service + "-" + secret[:35], Key{}, false}, // cut short in copying
		{"live-" + service + secret, Key{}, false},            // no separator
		{"live_" + service + "-" + secret, Key{}, false},      // name not separated
		{"live-" + service + "-" + "3d844edf-8d35-48ac-975b-e847b4f122bz", Key{}, false},
		{"live-" + "26785a09+ab16-4eb0-8407-a37497a57506" + "-" + secret, Key{}, false},
	} {
		got, err := ParseKey(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("ParseKey(%q): the error shows the key: %v", tt.in, err)
		}
	}
}

func TestKeyStringHidesSecret(t *testing.T) {
	t.Parallel()
	k := Key{Name: "live", ServiceID: service, Secret: secret}
	if s := k.String(); strings.Contains(s, secret) || !strings.Contains(s, service) {
		t.Errorf("String() = %q", s)
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("signpost_live-" + service + "-" + secret)
	f.Add(service + "-" + secret)
	f.Add("a-b-c")
	f.Add("-" + service + "-" + secret)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		if !isUUID(k.ServiceID) || !isUUID(k.Secret) {
			t.Fatalf("ParseKey(%q) accepted %+v", s, k)
		}
		again := k.ServiceID + "-" + k.Secret
		if k.Name != "" {
			again = k.Name + "-" + again
		}
		if again != strings.TrimSpace(s) {
			t.Fatalf("ParseKey(%q) = %+v, which puts back together as %q", s, k, again)
		}
		if k2, err := ParseKey(again); err != nil || k2 != k {
			t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", again, k2, err, k)
		}
	})
}

// TestToken checks the JWT is what Notify documents: HS256, typ JWT, iss
// the service id, iat the time, signed with the secret.
func TestToken(t *testing.T) {
	t.Parallel()
	k := Key{Name: "live", ServiceID: service, Secret: secret}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	raw, err := k.token(now)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["typ"] != "JWT" || tok.Header["alg"] != "HS256" {
		t.Errorf("header = %v", tok.Header)
	}
	if len(claims) != 2 || claims["iss"] != service || claims["iat"] != float64(now.Unix()) {
		t.Errorf("claims = %v", claims)
	}
	if _, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return []byte(service), nil }); err == nil {
		t.Error("the token verifies with another key")
	}
}
