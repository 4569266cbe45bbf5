// Package email sends notices to residents who subscribed, over SMTP with
// STARTTLS (required: credentials and addresses never cross the network
// in clear) and AUTH PLAIN. Every message is addressed to one subscriber
// and carries that subscriber's one-click unsubscribe link in
// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), which large mail
// providers now require of bulk senders.
//
// E-mail cannot be edited or recalled: Update sends the new text marked as
// an update, and Delete does nothing. Delivery guarantee: at least once
// per subscriber; the Message-ID is derived from the delivery key and the
// address, so a resend after a lost answer carries the same Message-ID,
// which many providers use to drop duplicates.
//
// SMTP is the default way out; a Transport (GOV.UK Notify's API, package
// notify) can take its place for subscribers' messages, with the same
// per-subscriber unsubscribe links.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
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

// Sender sends messages one address at a time, each with that address's
// unsubscribe link: an SMTP session, or a Transport's equivalent.
type Sender interface {
	// Send sends p to one address and returns the message's id. A
	// failure for that address alone is permanent with Code "recipient"
	// and the Sender can go on; after any other failure, close it.
	Send(ctx context.Context, to string, p channel.Post, unsubscribe string) (string, error)
	// Close ends the session.
	Close() error
}

// Transport hands messages to something other than an SMTP server.
type Transport interface {
	// Open starts sending.
	Open(ctx context.Context) (Sender, error)
	// Health checks the credentials still work, without sending.
	Health(ctx context.Context) error
}

// Config is what an e-mail channel needs.
type Config struct {
	// Transport, when set, sends subscribers' messages instead of SMTP;
	// Addr, Username, Password, From, TLS, Dial and Inbox are then not
	// used, and replies (Reply) cannot be sent.
	Transport Transport
	// Addr is the submission server, host:port (usually port 587).
	Addr     string
	Username string
	Password string
	// From is the sender, e.g. "Northdale Council <alerts@northdale.gov.uk>".
	From string
	// Subscribers are the addresses this channel sends to.
	Subscribers []string
	// Unsubscribe returns the one-click unsubscribe URL for an address;
	// it must accept a POST with List-Unsubscribe=One-Click. Required
	// with Subscribers; a Session's sender passes each link itself.
	Unsubscribe func(address string) string
	// TLS configures STARTTLS; ServerName defaults to Addr's host.
	TLS *tls.Config
	// Dial opens the connection; production passes netsafe.DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Hostname is sent in EHLO; default "localhost".
	Hostname string
	Now      func() time.Time
	// Inbox, when set, is the monitored mailbox residents write to,
	// read over IMAP; replies to it go out through this channel's SMTP.
	Inbox *MailboxConfig
}

// Connector sends to a list of subscribers.
type Connector struct {
	cfg   Config
	from  *mail.Address
	host  string
	inbox *Mailbox
}

// New checks the configuration and returns a connector.
func New(cfg Config) (*Connector, error) {
	if cfg.Unsubscribe == nil && len(cfg.Subscribers) > 0 {
		return nil, fmt.Errorf("email: an unsubscribe link is required for every message")
	}
	if cfg.Transport != nil {
		if cfg.Inbox != nil {
			return nil, fmt.Errorf("email: a monitored mailbox needs SMTP to answer from, not another transport")
		}
		return &Connector{cfg: cfg}, nil
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("email: server %q is not host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", cfg.From, err)
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{}
	}
	cfg.TLS = cfg.TLS.Clone()
	if cfg.TLS.ServerName == "" {
		cfg.TLS.ServerName = host
	}
	cfg.TLS.MinVersion = max(cfg.TLS.MinVersion, tls.VersionTLS12)
	if cfg.Dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second}
		cfg.Dial = d.DialContext
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Connector{cfg: cfg, from: from, host: host}
	if cfg.Inbox != nil {
		if c.inbox, err = NewMailbox(*cfg.Inbox); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Inbox is the monitored mailbox, or nil when the channel has none.
func (c *Connector) Inbox() *Mailbox { return c.inbox }

// Publish sends p to every subscriber in one SMTP session. Addresses the
// server refuses permanently are skipped; the error lists how many.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	return c.sendAll(ctx, p, "")
}

// Update sends the new text with the subject marked as an update.
func (c *Connector) Update(ctx context.Context, _ channel.Receipt, p channel.Post) (channel.Receipt, error) {
	return c.sendAll(ctx, p, "Update: ")
}

// Delete does nothing: sent e-mail cannot be recalled.
func (c *Connector) Delete(context.Context, channel.Receipt) error { return nil }

// Health connects, upgrades to TLS and logs in, sending nothing; or asks
// the Transport.
func (c *Connector) Health(ctx context.Context) error {
	if c.cfg.Transport != nil {
		return c.cfg.Transport.Health(ctx)
	}
	cl, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Noop(); err != nil {
		return classify("noop", err)
	}
	return cl.Quit()
}

func (c *Connector) sendAll(ctx context.Context, p channel.Post, prefix string) (channel.Receipt, error) {
	if len(c.cfg.Subscribers) == 0 {
		return channel.Receipt{}, nil
	}
	s, err := c.Open(ctx)
	if err != nil {
		return channel.Receipt{}, err
	}
	p.Subject = prefix + p.Subject
	var r channel.Receipt
	refused := 0
	for _, to := range c.cfg.Subscribers {
		addr, err := ParseRecipient(to)
		if err != nil {
			refused++
			continue
		}
		id, err := s.Send(ctx, addr, p, c.cfg.Unsubscribe(addr))
		if err != nil {
			if channel.IsPermanent(err) && channel.Code(err) == "recipient" {
				refused++
				continue
			}
			s.Close()
			return r, err
		}
		r.IDs = append(r.IDs, id)
	}
	if err := s.Close(); err != nil {
		return r, err
	}
	if refused > 0 && len(r.IDs) == 0 {
		return r, channel.Permanent("email: the server refused all %d recipients", refused)
	}
	return r, nil
}

// open connects and sets up a session: EHLO, STARTTLS (required), AUTH.
func (c *Connector) open(ctx context.Context) (*smtp.Client, error) {
	cl, _, err := c.dial(ctx)
	return cl, err
}

// deadline bounds an exchange with the server: net/smtp has no contexts.
func (c *Connector) deadline(ctx context.Context) time.Time {
	deadline := c.cfg.Now().Add(2 * time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// dial opens a session and returns the raw connection too, so a long
// session can move its deadline on.
func (c *Connector) dial(ctx context.Context) (*smtp.Client, net.Conn, error) {
	if c.cfg.Transport != nil {
		return nil, nil, notSMTP()
	}
	conn, err := c.cfg.Dial(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, nil, channel.TransportError("email: connect", err)
	}
	conn.SetDeadline(c.deadline(ctx))
	cl, err := smtp.NewClient(conn, c.host)
	if err != nil {
		conn.Close()
		return nil, nil, classify("greeting", err)
	}
	if err := cl.Hello(c.cfg.Hostname); err != nil {
		cl.Close()
		return nil, nil, classify("ehlo", err)
	}
	if ok, _ := cl.Extension("STARTTLS"); !ok {
		cl.Close()
		return nil, nil, channel.Permanent("email: %s does not offer STARTTLS; refusing to send in clear", c.cfg.Addr)
	}
	if err := cl.StartTLS(c.cfg.TLS); err != nil {
		cl.Close()
		return nil, nil, classify("starttls", err)
	}
	if c.cfg.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.host)); err != nil {
			cl.Close()
			return nil, nil, classify("auth", err)
		}
	}
	return cl, conn, nil
}

// Session is one SMTP session that sends many messages, each to one
// address with its own unsubscribe link, so a large send pays for the
// connection, TLS handshake and login once. It is not safe for concurrent
// use; open one per sender.
type Session struct {
	c    *Connector
	cl   *smtp.Client
	conn net.Conn
}

// Open starts a session: connect, EHLO, STARTTLS (required), AUTH; or
// opens the Transport.
func (c *Connector) Open(ctx context.Context) (Sender, error) {
	if c.cfg.Transport != nil {
		return c.cfg.Transport.Open(ctx)
	}
	cl, conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &Session{c: c, cl: cl, conn: conn}, nil
}

// Send sends p to one address with its unsubscribe link, as Publish
// would, and returns the Message-ID. After a failure for one recipient
// (a permanent error with Code "recipient") the session can go on; after
// any other failure, close it and open another.
func (s *Session) Send(ctx context.Context, to string, p channel.Post, unsubscribe string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.conn.SetDeadline(s.c.deadline(ctx))
	id, err := s.c.send(s.cl, to, p, unsubscribe)
	if err != nil && channel.Code(err) == "recipient" {
		s.cl.Reset()
	}
	return id, err
}

// Close ends the session politely (QUIT), or drops it if the server does
// not answer.
func (s *Session) Close() error {
	defer s.cl.Close()
	if err := s.cl.Quit(); err != nil {
		return classify("quit", err)
	}
	return nil
}

func (c *Connector) send(cl *smtp.Client, to string, p channel.Post, unsub string) (string, error) {
	addr, err := ParseRecipient(to)
	if err != nil {
		return "", err
	}
	msg, id := c.message(addr, p, unsub)
	return id, c.transmit(cl, addr, msg)
}

// transmit sends one message to one recipient in an open session.
func (c *Connector) transmit(cl *smtp.Client, to string, msg []byte) error {
	if err := cl.Mail(c.from.Address); err != nil {
		return classify("mail from", err)
	}
	if err := cl.Rcpt(to); err != nil {
		e := classify("rcpt", err)
		var ce *channel.Error
		if errors.As(e, &ce) && ce.Class == channel.ErrPermanent {
			ce.Code = "recipient"
		}
		return e
	}
	w, err := cl.Data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return channel.TransportError("email: data", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of data", err)
	}
	return nil
}

// message builds one subscriber's message. Header values are cleaned of
// line breaks so no text can inject headers.
func (c *Connector) message(to string, p channel.Post, unsub string) ([]byte, string) {
	sum := sha256.Sum256([]byte(p.IdempotencyKey + "\x00" + to))
	domain := c.from.Address[strings.LastIndexByte(c.from.Address, '@')+1:]
	id := hex.EncodeToString(sum[:12]) + "@" + domain

	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	h("From", c.from.String())
	h("To", "<"+to+">")
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(p.Subject)))
	h("Date", c.cfg.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+id+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	if len(p.Languages) > 0 {
		h("Content-Language", strings.Join(p.Languages, ", "))
	}
	h("List-Unsubscribe", "<"+unsub+">")
	h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")

	body := Body(p, unsub)
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
	return b.Bytes(), id
}

// notSMTP is the answer to what only SMTP can do (replies) on a
// connector with another Transport.
func notSMTP() error {
	return channel.Permanent("email: this channel sends through another transport, not SMTP")
}

// ParseRecipient returns the address part of "Name <address>" or of a
// bare address; what is not an address fails as a permanent error with
// Code "recipient", as Send's refusals do.
func ParseRecipient(to string) (string, error) {
	a, err := mail.ParseAddress(to)
	if err != nil {
		return "", &channel.Error{Class: channel.ErrPermanent, Code: "recipient", Message: "email: a subscriber address is not valid"}
	}
	return a.Address, nil
}

// Body is the text of a subscriber's message, whatever carries it: the
// post, its link unless the text has it, and a footer with the
// unsubscribe link for readers whose mail program shows no button.
func Body(p channel.Post, unsub string) string {
	body := p.Text()
	if p.Link != "" && !strings.Contains(body, p.Link) {
		body += "\n\n" + p.Link
	}
	return body + "\n\n-- \nYou are getting this because you subscribed to these updates.\nUnsubscribe: " + unsub + "\n"
}

// Subject is a subject on one line, so no text can inject headers.
func Subject(p channel.Post) string { return oneLine(p.Subject) }

func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// classify maps SMTP replies: 4xx is temporary, 5xx permanent; anything
// else is a transport failure.
func classify(what string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		class := channel.ErrPermanent
		if tp.Code >= 400 && tp.Code < 500 {
			class = channel.ErrRetryable
		}
		return &channel.Error{Class: class, Code: fmt.Sprint(tp.Code), Message: "email: " + what + ": " + tp.Msg}
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return &channel.Error{Class: channel.ErrPermanent, Message: "email: " + what + ": server certificate not trusted", Err: err}
	}
	return channel.TransportError("email: "+what, err)
}
