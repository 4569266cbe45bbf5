// Package netsafe makes outbound HTTP clients that cannot be turned against
// the council's own network. A webhook URL is typed in by an admin (or an
// attacker who became one); without this, it could point at 127.0.0.1, a
// cloud metadata address or an internal service. The check runs in the
// dialer's Control hook, on the address actually being connected to after
// DNS resolution, so a name that resolves to a public address once and a
// private one later (DNS rebinding) is still refused, and so is every hop
// of a redirect.
package netsafe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// blocked lists the ranges no outbound call may reach, with why.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified/this-network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved/broadcast"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (ULA)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// embedsIPv4 lists IPv6 ranges that carry an IPv4 address in their low 32
// bits and reach it through translation, so the IPv4 address is checked too.
var embedsIPv4 = []netip.Prefix{
	netip.MustParsePrefix("::ffff:0:0/96"), // IPv4-mapped
	netip.MustParsePrefix("::/96"),         // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 well-known prefix
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Classify says why addr may not be reached, or "" when it is a public
// address.
func Classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid address"
	}
	addr = addr.WithZone("")
	for _, p := range embedsIPv4 {
		if addr.Is6() && p.Contains(addr) {
			b := addr.As16()
			v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
			if r := Classify(v4); r != "" {
				return r + " (embedded in IPv6)"
			}
		}
	}
	// 2002::/16 (6to4) embeds the IPv4 address in bits 16–47.
	if addr.Is6() && netip.MustParsePrefix("2002::/16").Contains(addr) {
		b := addr.As16()
		if r := Classify(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); r != "" {
			return r + " (embedded in 6to4)"
		}
	}
	for _, b := range blocked {
		if b.prefix.Contains(addr) {
			return b.reason
		}
	}
	return ""
}

// RefusedError is returned (wrapped in the dial error) when the policy
// stops a connection. Retrying will not help.
type RefusedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("netsafe: refusing to connect to %s: %s address; an admin can allow it explicitly", e.Addr, e.Reason)
}

// PolicyRefusal marks the error as a policy decision for classifiers.
func (e *RefusedError) PolicyRefusal() bool { return true }

// Options configure a client. The zero value is safe.
type Options struct {
	// Allow lists ranges that may be reached even though Classify blocks
	// them, for a partner system on the council's own network or tests
	// against httptest servers. Every use is logged.
	Allow []netip.Prefix
	// Timeout bounds a whole request, including reading the body;
	// default 30s.
	Timeout time.Duration
	// MaxBody caps response bodies; default 1 MiB. Reading past it fails.
	MaxBody int64
	// MaxRedirects caps redirects followed; default 3.
	MaxRedirects int
	// Logger receives the allowlist at start-up and each allowed private
	// connection; default slog.Default().
	Logger *slog.Logger
}

// ErrBodyTooLarge is returned by reads past Options.MaxBody.
var ErrBodyTooLarge = errors.New("netsafe: response body too large")

// NewClient returns an http.Client that refuses non-public addresses
// (unless allowed), ignores proxy variables (a proxy would hide the final
// address from the check), and bounds time and size everywhere.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Allow) > 0 {
		allowed := make([]string, len(o.Allow))
		for i, p := range o.Allow {
			allowed[i] = p.String()
		}
		o.Logger.Warn("netsafe: outbound calls may reach these otherwise blocked ranges", "allow", allowed)
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   control(o.Allow, o.Logger),
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           32,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  20 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: &capped{rt: transport, max: o.MaxBody},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= o.MaxRedirects {
				return fmt.Errorf("netsafe: stopped after %d redirects", len(via))
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("netsafe: redirect to %q scheme refused", req.URL.Scheme)
			}
			// The new host is checked when it is dialled, like the first.
			return nil
		},
	}
}

// control runs after DNS resolution, on the exact address being dialled.
func control(allow []netip.Prefix, log *slog.Logger) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("netsafe: cannot check address %q: %w", address, err)
		}
		addr, reason, by := decide(ap.Addr(), allow)
		switch {
		case reason == "":
			return nil
		case by.IsValid():
			log.Info("netsafe: allowed connection to a blocked range by explicit allowlist", "addr", addr.String(), "range", by.String(), "reason", reason)
			return nil
		}
		return &RefusedError{Addr: addr, Reason: reason}
	}
}

// decide applies the policy to one address: reason is why it is blocked
// ("" when public) and by the allowlist entry that lets it through anyway.
func decide(a netip.Addr, allow []netip.Prefix) (addr netip.Addr, reason string, by netip.Prefix) {
	addr = a.Unmap().WithZone("")
	if reason = Classify(addr); reason == "" {
		return addr, "", netip.Prefix{}
	}
	for _, p := range allow {
		if p.Contains(addr) || p.Contains(a.WithZone("")) {
			return addr, reason, p
		}
	}
	return addr, reason, netip.Prefix{}
}

// CheckHost resolves host (a name or an address) and returns a
// *RefusedError when an address it has may not be reached, so a setting
// typed into a form can be refused before anything is dialled. A name
// that does not resolve now is not refused: the check when dialling still
// applies once it does. The dialling check stays the real protection, as
// a name can change what it resolves to.
func CheckHost(ctx context.Context, allow []netip.Prefix, host string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if addr, reason, by := decide(a, allow); reason != "" && !by.IsValid() {
			return &RefusedError{Addr: addr, Reason: reason}
		}
	}
	return nil
}

// capped limits response bodies.
type capped struct {
	rt  http.RoundTripper
	max int64
}

func (c *capped) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrBodyTooLarge, resp.ContentLength, c.max)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ParseAllow reads an allowlist written as comma-separated CIDR prefixes
// or single addresses ("127.0.0.1, 10.20.0.0/16").
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("netsafe: allowlist entry %q is neither an address nor a CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// DialContext is exposed for clients that are not HTTP (SMTP): it applies
// the same policy.
func DialContext(ctx context.Context, o Options, network, address string) (net.Conn, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: control(o.Allow, o.Logger)}
	return d.DialContext(ctx, network, address)
}
