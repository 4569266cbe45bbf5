package fake

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAP is a real IMAP server for tests: go-imap's in-memory server, on
// 127.0.0.1 with a fresh self-signed certificate, one user and an INBOX.
// With implicitTLS it speaks TLS from the start (as on port 993);
// otherwise it offers STARTTLS and refuses to log in before it.
type IMAP struct {
	Addr string

	srv   *imapserver.Server
	mem   *imapmemserver.Server
	user  *imapmemserver.User
	ln    net.Listener
	roots *x509.CertPool
}

// NewIMAP starts the server. Close it when done.
func NewIMAP(user, password string, implicitTLS bool) (*IMAP, error) {
	cert, roots, err := selfSigned()
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig: tc,
	})
	var ln net.Listener
	if implicitTLS {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tc)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return &IMAP{Addr: ln.Addr().String(), srv: srv, mem: mem, user: u, ln: ln, roots: roots}, nil
}

// RootCAs is the pool that trusts the server's certificate.
func (s *IMAP) RootCAs() *x509.CertPool { return s.roots }

// Deliver appends a raw message to the INBOX, as a mail server does when
// mail arrives.
func (s *IMAP) Deliver(raw []byte) error {
	_, err := s.user.Append("INBOX", literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{})
	return err
}

// Renumber deletes and recreates the INBOX with the given messages, so
// its UIDVALIDITY changes, as a server does after restoring a backup.
func (s *IMAP) Renumber(raw ...[]byte) error {
	if err := s.user.Delete("INBOX"); err != nil {
		return err
	}
	if err := s.user.Create("INBOX", nil); err != nil {
		return err
	}
	for _, r := range raw {
		if err := s.Deliver(r); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the server.
func (s *IMAP) Close() error { return s.srv.Close() }

type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }
