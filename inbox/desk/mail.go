package desk

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// Mail is one message the inbox sends itself: the duty officer's alert,
// or an answer to a resident who wrote through the enquiry form.
type Mail struct {
	To        string
	Subject   string
	Body      string
	MessageID string // without angle brackets; derived from an idempotency key so a resend is recognisable
	InReplyTo string // the Message-ID answered, if any
}

// Mailer sends Mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMTP sends mail through a submission server with STARTTLS (required:
// addresses and text never cross the network in clear) and AUTH PLAIN.
type SMTP struct {
	Addr     string // host:port
	Username string
	Password string
	From     string // "Northdale Council <contact@northdale.gov.uk>"
	TLS      *tls.Config
	// Dial opens the connection; production passes netsafe's dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
}

// Send delivers m in one SMTP session. SMTP 4xx replies and transport
// failures are retryable channel errors, 5xx permanent.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return channel.Permanent("mail: server %q is not host:port", s.Addr)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return channel.Permanent("mail: the sender address is not valid")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return channel.Permanent("mail: the recipient address is not valid")
	}
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	conn, err := dial(ctx, "tcp", s.Addr)
	if err != nil {
		return channel.TransportError("mail: connect", err)
	}
	// net/smtp has no contexts: bound the session by a deadline.
	deadline := now().Add(time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return smtpError("greeting", err)
	}
	defer cl.Close()
	cfg := &tls.Config{}
	if s.TLS != nil {
		cfg = s.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	if ok, _ := cl.Extension("STARTTLS"); !ok {
		return channel.Permanent("mail: %s does not offer STARTTLS; refusing to send in clear", s.Addr)
	}
	if err := cl.StartTLS(cfg); err != nil {
		return smtpError("starttls", err)
	}
	if s.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return smtpError("auth", err)
		}
	}
	if err := cl.Mail(from.Address); err != nil {
		return smtpError("mail from", err)
	}
	if err := cl.Rcpt(to.Address); err != nil {
		return smtpError("rcpt", err)
	}
	w, err := cl.Data()
	if err != nil {
		return smtpError("data", err)
	}
	if _, err := w.Write(compose(from, to.Address, m, now())); err != nil {
		return channel.TransportError("mail: data", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of data", err)
	}
	return cl.Quit()
}

// compose writes the message; header values lose any line breaks so no
// text can add headers.
func compose(from *mail.Address, to string, m Mail, now time.Time) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	h("From", from.String())
	h("To", "<"+to+">")
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	h("Date", now.Format(time.RFC1123Z))
	if m.MessageID != "" {
		h("Message-ID", "<"+m.MessageID+">")
	}
	if m.InReplyTo != "" {
		h("In-Reply-To", "<"+strings.Trim(m.InReplyTo, "<>")+">")
		h("References", "<"+strings.Trim(m.InReplyTo, "<>")+">")
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

func smtpError(what string, err error) error {
	if tp, ok := err.(*textproto.Error); ok && tp.Code >= 500 {
		return channel.Permanent("mail: %s: %d %s", what, tp.Code, tp.Msg)
	}
	return channel.TransportError("mail: "+what, err)
}
