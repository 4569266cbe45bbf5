package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/signpost-uk/signpost/channel"
)

// MailboxConfig is how to read the monitored mailbox over IMAP.
type MailboxConfig struct {
	// Addr is the IMAP server, host:port.
	Addr string
	// ImplicitTLS starts TLS on connecting (IMAPS, port 993, which sets
	// it); otherwise the server must offer STARTTLS. Mail is never read
	// in clear.
	ImplicitTLS bool
	Username    string
	Password    string
	// Mailbox is the folder to read; default INBOX.
	Mailbox string
	// TLS configures TLS; ServerName defaults to Addr's host.
	TLS *tls.Config
	// Dial opens the connection; production passes netsafe.DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
}

// Mailbox reads a monitored mailbox. It never changes the mailbox: it
// selects it read-only and fetches with BODY.PEEK, so the council's own
// mail client still shows what is unread.
type Mailbox struct {
	cfg  MailboxConfig
	host string
}

// NewMailbox checks the configuration and returns a reader.
func NewMailbox(cfg MailboxConfig) (*Mailbox, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("email: IMAP server %q is not host:port", cfg.Addr)
	}
	if port == "993" {
		cfg.ImplicitTLS = true
	}
	if cfg.Username == "" {
		return nil, fmt.Errorf("email: IMAP needs a user name")
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Mailbox{cfg: cfg, host: host}, nil
}

// Received is one message read from the mailbox.
type Received struct {
	// ID is the Message-ID, or uid:VALIDITY:UID for a message without
	// one, so the same message read twice has the same id.
	ID string
	Message
	// Err says the message could not be read; it is skipped, not retried
	// for ever.
	Err error
}

// Batch bounds one Fetch.
const Batch = 50

// maxFetchBytes is the largest message fetched whole; of a bigger one
// (photos attached) only the headers are read.
const maxFetchBytes = 5 << 20

// Fetch reads up to Batch messages that arrived after cursor (the
// mailbox's UIDVALIDITY and the last UID read, "validity:uid"), oldest
// first, and returns the cursor to save once they are stored and whether
// more are waiting. An empty cursor, or one from before the mailbox's
// UIDVALIDITY changed (the server renumbered it), starts from the newest
// Batch messages; re-reading messages already stored is harmless, as
// their ids are their Message-IDs.
func (mb *Mailbox) Fetch(ctx context.Context, cursor string) ([]Received, string, bool, error) {
	c, done, err := mb.open(ctx)
	if err != nil {
		return nil, cursor, false, err
	}
	defer done()
	sel, err := c.Select(mb.cfg.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, cursor, false, classifyIMAP("select "+mb.cfg.Mailbox, err)
	}
	validity, last, ok := parseCursor(cursor)
	if !ok || validity != sel.UIDValidity {
		last = 0
		if sel.UIDNext > Batch {
			last = uint32(sel.UIDNext) - Batch - 1
		}
	}
	next := fmt.Sprintf("%d:%d", sel.UIDValidity, last)
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(last + 1), Stop: 0}}}}, nil).Wait()
	if err != nil {
		return nil, cursor, false, classifyIMAP("search", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		// "n:*" includes the last message even when its UID is below n.
		if uint32(u) > last {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	more := len(uids) > Batch
	uids = uids[:min(len(uids), Batch)]
	if len(uids) == 0 {
		return nil, next, false, nil
	}
	sizes, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, cursor, false, classifyIMAP("fetch sizes", err)
	}
	var small, big []imap.UID
	for _, m := range sizes {
		if m.RFC822Size > maxFetchBytes {
			big = append(big, m.UID)
		} else {
			small = append(small, m.UID)
		}
	}
	raw := map[imap.UID][]byte{}
	whole := &imap.FetchItemBodySection{Peek: true}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	for _, part := range []struct {
		uids    []imap.UID
		section *imap.FetchItemBodySection
	}{{small, whole}, {big, header}} {
		if len(part.uids) == 0 {
			continue
		}
		msgs, err := c.Fetch(imap.UIDSetNum(part.uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{part.section}}).Collect()
		if err != nil {
			return nil, cursor, false, classifyIMAP("fetch", err)
		}
		for _, m := range msgs {
			raw[m.UID] = m.FindBodySection(part.section)
		}
	}
	out := make([]Received, 0, len(uids))
	for _, u := range uids {
		b, ok := raw[u]
		if !ok {
			continue // expunged meanwhile
		}
		r := Received{}
		r.Message, r.Err = ParseMessage(b)
		if slices.Contains(big, u) && r.Err == nil {
			r.Text = "(This message is too large to show here; read it in the mailbox.)"
		}
		r.ID = r.MessageID
		if r.ID == "" {
			r.ID = fmt.Sprintf("uid:%d:%d", sel.UIDValidity, u)
		}
		out = append(out, r)
	}
	return out, fmt.Sprintf("%d:%d", sel.UIDValidity, uids[len(uids)-1]), more, nil
}

// Find returns the message with the given Message-ID, for threading a
// reply to it; ok is false when the mailbox no longer has it.
func (mb *Mailbox) Find(ctx context.Context, messageID string) (Message, bool, error) {
	c, done, err := mb.open(ctx)
	if err != nil {
		return Message{}, false, err
	}
	defer done()
	if _, err := c.Select(mb.cfg.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return Message{}, false, classifyIMAP("select "+mb.cfg.Mailbox, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + messageID + ">"}}}, nil).Wait()
	if err != nil {
		return Message{}, false, classifyIMAP("search", err)
	}
	uids := found.AllUIDs()
	if len(uids) == 0 {
		return Message{}, false, nil
	}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uids[0]), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{header}}).Collect()
	if err != nil {
		return Message{}, false, classifyIMAP("fetch", err)
	}
	if len(msgs) == 0 {
		return Message{}, false, nil
	}
	m, err := ParseMessage(msgs[0].FindBodySection(header))
	if err != nil {
		return Message{}, false, nil
	}
	return m, true, nil
}

// open connects with TLS (from the start on port 993, else by STARTTLS)
// and logs in. done logs out and closes.
func (mb *Mailbox) open(ctx context.Context) (*imapclient.Client, func(), error) {
	conn, err := mb.cfg.Dial(ctx, "tcp", mb.cfg.Addr)
	if err != nil {
		return nil, nil, channel.TransportError("email: connect to IMAP", err)
	}
	// imapclient has no contexts: bound the session by a deadline, and
	// close it if ctx ends first.
	deadline := mb.cfg.Now().Add(2 * time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	var c *imapclient.Client
	if mb.cfg.ImplicitTLS {
		tc := tls.Client(conn, mb.cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			stop()
			conn.Close()
			return nil, nil, classifyIMAP("TLS", err)
		}
		c = imapclient.New(tc, nil)
	} else if c, err = imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: mb.cfg.TLS}); err != nil {
		stop()
		conn.Close()
		return nil, nil, classifyIMAP("STARTTLS", err)
	}
	done := func() {
		stop()
		c.Logout().Wait()
		c.Close()
	}
	if err := c.Login(mb.cfg.Username, mb.cfg.Password).Wait(); err != nil {
		done()
		return nil, nil, classifyIMAP("log in", err)
	}
	return c, done, nil
}

func parseCursor(s string) (validity, uid uint32, ok bool) {
	v, u, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	vn, err1 := strconv.ParseUint(v, 10, 32)
	un, err2 := strconv.ParseUint(u, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uint32(vn), uint32(un), true
}

// classifyIMAP maps a server's NO or BAD: failed authentication, a
// missing mailbox and refused commands are permanent; UNAVAILABLE and
// other NO answers may pass. Anything else is a transport failure.
func classifyIMAP(what string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		class := channel.ErrRetryable
		switch {
		case ie.Code == imap.ResponseCodeAuthenticationFailed, ie.Code == imap.ResponseCodeAuthorizationFailed,
			ie.Code == imap.ResponseCodeNonExistent, ie.Type == imap.StatusResponseTypeBad:
			class = channel.ErrPermanent
		}
		return &channel.Error{Class: class, Code: string(ie.Code), Message: "email: IMAP " + what + ": " + ie.Text}
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return &channel.Error{Class: channel.ErrPermanent, Message: "email: IMAP " + what + ": server certificate not trusted", Err: err}
	}
	return channel.TransportError("email: IMAP "+what, err)
}
