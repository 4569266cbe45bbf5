package netsafe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.1", false},
		{"0.0.0.0", true},
		{"224.0.0.251", true},
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"151.101.0.81", false},
		{"::1", true},
		{"::", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd12:3456::1", true},
		{"fc00::1", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:8.8.8.8", false},
		{"::127.0.0.1", true},       // IPv4-compatible
		{"64:ff9b::7f00:1", true},   // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
		{"2002:7f00:1::1", true},    // 6to4 of 127.0.0.1
		{"2002:808:808::1", false},  // 6to4 of 8.8.8.8
		{"2001:db8::1", true},
		{"2a00:1450:4009:81f::200e", false},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := Classify(a); (got != "") != tt.blocked {
			t.Errorf("Classify(%s) = %q, want blocked=%v", tt.addr, got, tt.blocked)
		}
	}
	if Classify(netip.Addr{}) == "" {
		t.Error("the zero address is not blocked")
	}
}

func TestParseAllow(t *testing.T) {
	t.Parallel()
	got, err := ParseAllow(" 127.0.0.1, 10.20.0.0/16 ,,::1, ::ffff:192.168.0.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "10.20.0.0/16", "::1/128", "192.168.0.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseAllow("127.0.0.1, intranet"); err == nil {
		t.Error("accepted a name")
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	c := NewClient(Options{Logger: quiet()})
	// Both the literal address and a name that resolves to it are
	// refused: the check is on the resolved address.
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		_, err := c.Post(u, "application/json", strings.NewReader("{}"))
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.Reason != "loopback" {
			t.Errorf("POST %s: err = %v, want a loopback refusal", u, err)
		}
	}

	var logs bytes.Buffer
	allowed := NewClient(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	resp, err := allowed.Get(srv.URL)
	if err != nil {
		t.Fatalf("allowlisted GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body = %q", body)
	}
	if !strings.Contains(logs.String(), "127.0.0.1/32") || !strings.Contains(logs.String(), "allowed connection") {
		t.Errorf("allowlist use is not logged: %s", logs.String())
	}
}

func TestRedirectsAreRechecked(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	inner := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "internal") }))
	inner.Listener.Close()
	inner.Listener = ln
	inner.Start()
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/secret", http.StatusFound)
	}))
	defer outer.Close()

	c := NewClient(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: quiet()})
	_, err = c.Get(outer.URL)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Addr != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("redirect to 127.0.0.2: err = %v, want refusal", err)
	}
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		} else {
			w.Header().Set("Content-Length", "5000")
		}
		io.WriteString(w, big[:len(big)-len(r.URL.Query().Get("short"))])
	}))
	defer srv.Close()
	c := NewClient(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, MaxBody: 1000, Logger: quiet()})
	if _, err := c.Get(srv.URL + "/"); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("announced large body: err = %v", err)
	}
	resp, err := c.Get(srv.URL + "/chunked")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("streamed large body: err = %v", err)
	}

	exact := NewClient(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, MaxBody: 5000, Logger: quiet()})
	resp, err = exact.Get(srv.URL + "/chunked")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 5000 {
		t.Errorf("body of exactly the limit: %d bytes, %v", len(b), err)
	}
}

func FuzzParseAllow(f *testing.F) {
	f.Add("127.0.0.1, 10.0.0.0/8")
	f.Add("::ffff:1.2.3.4/128,fe80::1%eth0")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseAllow(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("ParseAllow(%q) gave %v", s, p)
			}
		}
	})
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		host    string
		allow   []netip.Prefix
		refused bool
	}{
		{"127.0.0.1", nil, true},
		{"127.0.0.1", loopback, false},
		{"localhost", nil, true},
		{"::1", nil, true},
		{"10.1.2.3", loopback, true},
		{"169.254.169.254", nil, true},
		{"93.184.215.14", nil, false},
		// Not resolvable now: left to the check when dialling.
		{"no-such-host.invalid", nil, false},
	}
	for _, tt := range tests {
		err := CheckHost(context.Background(), tt.allow, tt.host)
		var re *RefusedError
		if got := errors.As(err, &re); got != tt.refused {
			t.Errorf("CheckHost(%q, %v) = %v, want refused %v", tt.host, tt.allow, err, tt.refused)
		}
	}
}
