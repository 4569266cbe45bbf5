package fake

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Mail is one message an SMTP fake accepted.
type Mail struct {
	From string
	To   []string
	Data []byte // as received, dot-unstuffed, CRLF line ends
	TLS  bool   // whether the session had switched to TLS
	Auth string // the user that authenticated, if any
}

// SMTPFault is a failure an SMTP fake can inject.
type SMTPFault int

// The SMTP failures a fake can inject.
const (
	// SMTPUnavailable greets with 421, as a server shedding load does.
	SMTPUnavailable SMTPFault = iota + 1
	// SMTPTempFail answers DATA's end with 451.
	SMTPTempFail
)

// SMTP is a small, real SMTP server for tests (RFC 5321 with STARTTLS,
// RFC 3207, and AUTH PLAIN, RFC 4616): mailpit is not packaged for this
// project's machines, so tests talk SMTP to this instead. It requires
// STARTTLS before MAIL, offers AUTH only after it, and rejects recipients
// listed in Reject with 550.
type SMTP struct {
	Addr     string // host:port
	User     string
	Password string
	Reject   map[string]bool

	ln    net.Listener
	tls   *tls.Config
	roots *x509.CertPool

	mu     sync.Mutex
	mails  []Mail
	faults []SMTPFault
	wg     sync.WaitGroup
}

// NewSMTP starts an SMTP server on 127.0.0.1 with a fresh self-signed
// certificate for that address. Close it when done.
func NewSMTP(user, password string) (*SMTP, error) {
	cert, roots, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SMTP{Addr: ln.Addr().String(), User: user, Password: password, Reject: map[string]bool{},
		ln: ln, tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, roots: roots}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// RootCAs is the pool that trusts the server's certificate.
func (s *SMTP) RootCAs() *x509.CertPool { return s.roots }

// Mails returns a copy of every accepted message.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Fail makes the next n sessions (SMTPUnavailable) or messages
// (SMTPTempFail) fail.
func (s *SMTP) Fail(n int, f SMTPFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

func (s *SMTP) takeFault(f SMTPFault) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 && s.faults[0] == f {
		s.faults = s.faults[1:]
		return true
	}
	return false
}

// Close stops the server and waits for sessions to end.
func (s *SMTP) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *SMTP) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

type smtpSession struct {
	conn    net.Conn
	r       *bufio.Reader
	tls     bool
	auth    string
	from    string
	to      []string
	greeted bool
	hasMail bool
}

func (ss *smtpSession) reply(format string, args ...any) {
	fmt.Fprintf(ss.conn, format+"\r\n", args...)
}

func (s *SMTP) session(c net.Conn) {
	ss := &smtpSession{conn: c, r: bufio.NewReader(c)}
	if s.takeFault(SMTPUnavailable) {
		ss.reply("421 4.3.2 fake: service not available, try later")
		return
	}
	ss.reply("220 fake.smtp ESMTP ready")
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ss.greeted, ss.hasMail, ss.from, ss.to = true, false, "", nil
			lines := []string{"fake.smtp", "8BITMIME", "PIPELINING", "SIZE 10485760"}
			if ss.tls {
				lines = append(lines, "AUTH PLAIN")
			} else {
				lines = append(lines, "STARTTLS")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				ss.reply("250%s%s", sep, l)
			}
		case "STARTTLS":
			if ss.tls {
				ss.reply("503 5.5.1 TLS already active")
				continue
			}
			ss.reply("220 2.0.0 Ready to start TLS")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			// RFC 3207: forget everything learnt before TLS.
			ss.conn, ss.r, ss.tls, ss.greeted = tc, bufio.NewReader(tc), true, false
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !ss.tls || !strings.EqualFold(mech, "PLAIN") {
				ss.reply("504 5.5.4 mechanism not available")
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.User || parts[2] != s.Password {
				ss.reply("535 5.7.8 Authentication credentials invalid")
				continue
			}
			ss.auth = parts[1]
			ss.reply("235 2.7.0 Authentication successful")
		case "MAIL":
			switch {
			case !ss.greeted:
				ss.reply("503 5.5.1 EHLO first")
			case !ss.tls:
				ss.reply("530 5.7.0 Must issue a STARTTLS command first")
			case s.User != "" && ss.auth == "":
				ss.reply("530 5.7.0 Authentication required")
			default:
				ss.from, ss.to, ss.hasMail = angle(arg), nil, true
				ss.reply("250 2.1.0 OK")
			}
		case "RCPT":
			to := angle(arg)
			switch {
			case !ss.hasMail:
				ss.reply("503 5.5.1 MAIL first")
			case s.Reject[strings.ToLower(to)]:
				ss.reply("550 5.1.1 mailbox unavailable")
			default:
				ss.to = append(ss.to, to)
				ss.reply("250 2.1.5 OK")
			}
		case "DATA":
			if !ss.hasMail || len(ss.to) == 0 {
				ss.reply("503 5.5.1 RCPT first")
				continue
			}
			ss.reply("354 End data with <CR><LF>.<CR><LF>")
			data, err := readData(ss.r)
			if err != nil {
				return
			}
			if s.takeFault(SMTPTempFail) {
				ss.reply("451 4.3.0 fake: temporary failure, try later")
			} else {
				s.mu.Lock()
				s.mails = append(s.mails, Mail{From: ss.from, To: ss.to, Data: data, TLS: ss.tls, Auth: ss.auth})
				s.mu.Unlock()
				ss.reply("250 2.0.0 OK queued")
			}
			ss.hasMail, ss.from, ss.to = false, "", nil
		case "RSET":
			ss.hasMail, ss.from, ss.to = false, "", nil
			ss.reply("250 2.0.0 OK")
		case "NOOP":
			ss.reply("250 2.0.0 OK")
		case "QUIT":
			ss.reply("221 2.0.0 Bye")
			return
		default:
			ss.reply("502 5.5.2 command not recognised")
		}
	}
}

// angle takes the address out of "FROM:<a@b> SIZE=…".
func angle(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// readData reads a DATA body up to the lone ".", undoing dot-stuffing.
func readData(r *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" || line == ".\n" {
			return b.Bytes(), nil
		}
		b.WriteString(strings.TrimPrefix(line, "."))
		if b.Len() > 10<<20 {
			return nil, fmt.Errorf("message too large")
		}
	}
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake.smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{netip.MustParseAddr("127.0.0.1").AsSlice()},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
