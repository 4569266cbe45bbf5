// Package mailpit runs a real SMTP server for tests: it starts the mailpit
// binary (github.com/axllent/mailpit) on free local ports with a throwaway
// database, waits until it answers, reads what it received through its
// HTTP API (https://mailpit.axllent.org/docs/api-v1/), and stops it when the
// test ends. Tests that send e-mail use it so that what is checked is what a
// real server accepted and parsed, not what a fake chose to record.
//
// The server offers STARTTLS with a certificate made for the test (RootCAs
// trusts it) and accepts any SMTP username and password, like a council's
// submission server as far as a client can tell.
package mailpit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one running mailpit.
type Server struct {
	// SMTPAddr is host:port of its SMTP listener (STARTTLS required).
	SMTPAddr string
	// URL is the base of its web UI and API, e.g. http://127.0.0.1:41234.
	URL string
	// RootCAs trusts the certificate it presents after STARTTLS;
	// CertFile is that certificate as PEM, for programs under test.
	RootCAs  *x509.CertPool
	CertFile string

	cmd    *exec.Cmd
	exited chan struct{}
	out    *lockedBuffer
	http   *http.Client
}

// Locate finds the mailpit binary: $SIGNPOST_MAILPIT, else mailpit on
// $PATH, else ~/go/bin/mailpit (where `go install` puts it by default).
func Locate() (string, error) {
	if p := os.Getenv("SIGNPOST_MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("SIGNPOST_MAILPIT=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mailpit not found in $SIGNPOST_MAILPIT, on $PATH or in ~/go/bin (install it with: go install github.com/axllent/mailpit@v1.33.1)")
}

// Start runs a mailpit for the test and stops it when the test ends. It
// skips t, saying why, when the binary is missing, unless
// SIGNPOST_MAILPIT_REQUIRED is set (CI sets it so that a missing server
// fails the build instead of passing it silently).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Locate()
	if err != nil {
		if os.Getenv("SIGNPOST_MAILPIT_REQUIRED") != "" {
			t.Fatalf("mailpit is required (SIGNPOST_MAILPIT_REQUIRED) but cannot run: %v", err)
		}
		t.Skipf("skipping tests against a real SMTP server: %v", err)
	}
	s, err := start(bin, t.TempDir())
	if err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop mailpit: %v", err)
		}
	})
	return s
}

func start(bin, dir string) (*Server, error) {
	certFile, keyFile, roots, err := writeCertificate(dir)
	if err != nil {
		return nil, err
	}
	// Free ports are found by binding :0 and letting go; another process
	// can take one in between, so a failed start is tried again.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		smtpAddr, err1 := freeAddr()
		httpAddr, err2 := freeAddr()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		s := &Server{SMTPAddr: smtpAddr, URL: "http://" + httpAddr, RootCAs: roots, CertFile: certFile,
			exited: make(chan struct{}), out: &lockedBuffer{},
			http: &http.Client{Timeout: 30 * time.Second}}
		s.cmd = exec.Command(bin,
			"--smtp", smtpAddr, "--listen", httpAddr,
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
			"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls",
			"--smtp-auth-accept-any", "--smtp-disable-rdns",
			// Keep every message (the default prunes beyond 500) and
			// never reach out to the internet for a version check.
			"--max", "0", "--disable-version-check", "--quiet")
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("run %s: %w", bin, err)
		}
		go func() { s.cmd.Wait(); close(s.exited) }()
		if lastErr = s.waitReady(20 * time.Second); lastErr == nil {
			return s, nil
		}
		s.stop()
	}
	return nil, lastErr
}

// waitReady polls until both the API answers /readyz and the SMTP port
// accepts connections, or the process exits, or the deadline passes.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit not ready after %s; it said: %s", limit, s.out.String())
		}
		select {
		case <-s.exited:
			return fmt.Errorf("mailpit exited at start-up: %s", s.out.String())
		case <-tick.C:
		}
	}
}

func (s *Server) ready() bool {
	resp, err := s.http.Get(s.URL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stop asks mailpit to shut down and kills it if it has not within 10 s.
func (s *Server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("mailpit did not stop on SIGTERM within 10 s; killed")
	}
}

// TLS is the client configuration that trusts this server.
func (s *Server) TLS() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: "127.0.0.1"}
}

// Address is a sender or recipient as the API reports it.
type Address struct {
	Name    string
	Address string
}

// Summary is one message in a listing.
type Summary struct {
	ID        string // mailpit's own id, for Message, Headers and Raw
	MessageID string // the Message-ID header without angle brackets
	From      Address
	To        []Address
	Subject   string
	Created   time.Time
	Size      int
}

// Message is one message in full.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Date      time.Time
	Text      string
	HTML      string
	// ListUnsubscribe is mailpit's reading of the RFC 2369/8058 headers.
	ListUnsubscribe struct {
		Header     string
		Links      []string
		Errors     string
		HeaderPost string
	}
}

type listing struct {
	Total    int `json:"total"`
	Count    int `json:"count"`
	Start    int `json:"start"`
	Messages []Summary
}

// pageSize is how many summaries one API call fetches.
const pageSize = 1000

// Messages lists every message, newest first.
func (s *Server) Messages(ctx context.Context) ([]Summary, error) {
	return s.list(ctx, "/api/v1/messages", nil)
}

// Search lists the messages matching a mailpit search query, such as
// "to:ann@example.org" or `subject:"School closed"`, newest first.
func (s *Server) Search(ctx context.Context, query string) ([]Summary, error) {
	return s.list(ctx, "/api/v1/search", url.Values{"query": {query}})
}

func (s *Server) list(ctx context.Context, path string, q url.Values) ([]Summary, error) {
	if q == nil {
		q = url.Values{}
	}
	var all []Summary
	for {
		q.Set("start", strconv.Itoa(len(all)))
		q.Set("limit", strconv.Itoa(pageSize))
		var page listing
		if err := s.get(ctx, path+"?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// Count is how many messages mailpit holds.
func (s *Server) Count(ctx context.Context) (int, error) {
	var info struct{ Messages int }
	err := s.get(ctx, "/api/v1/info", &info)
	return info.Messages, err
}

// Message reads one message by mailpit's id.
func (s *Server) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	err := s.get(ctx, "/api/v1/message/"+url.PathEscape(id), &m)
	return m, err
}

// Headers reads one message's headers as mailpit parsed them.
func (s *Server) Headers(ctx context.Context, id string) (mail.Header, error) {
	var h map[string][]string
	err := s.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return mail.Header(h), err
}

// Raw reads one message exactly as it was received.
func (s *Server) Raw(ctx context.Context, id string) ([]byte, error) {
	resp, err := s.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id)+"/raw")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// DeleteAll empties the mailbox.
func (s *Server) DeleteAll(ctx context.Context) error {
	resp, err := s.do(ctx, http.MethodDelete, "/api/v1/messages")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// WaitCount polls until mailpit holds at least n messages and returns them,
// failing t if that has not happened within limit.
func (s *Server) WaitCount(t testing.TB, n int, limit time.Duration) []Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := s.Count(ctx)
		if err == nil && got >= n {
			msgs, err := s.Messages(ctx)
			if err != nil {
				t.Fatalf("list mailpit messages: %v", err)
			}
			return msgs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mailpit holds %d messages after %s, want %d (last error: %v)", got, limit, n, err)
		case <-tick.C:
		}
	}
}

func (s *Server) get(ctx context.Context, path string, v any) error {
	resp, err := s.do(ctx, http.MethodGet, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("mailpit %s: %w", path, err)
	}
	return nil
}

func (s *Server) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("mailpit %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return resp, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeCertificate makes a self-signed certificate for 127.0.0.1 valid for
// a day and writes it and its key as PEM files for mailpit's flags.
func writeCertificate(dir string) (certFile, keyFile string, roots *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "mailpit test server"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "smtp-cert.pem"), filepath.Join(dir, "smtp-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	roots = x509.NewCertPool()
	roots.AddCert(leaf)
	return certFile, keyFile, roots, nil
}

// lockedBuffer collects mailpit's output, written by exec's copying
// goroutine and read by the test when start-up fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
