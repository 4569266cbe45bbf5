package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// ReplyMail is an answer to one resident.
type ReplyMail struct {
	// Key identifies the reply; the Message-ID is derived from it, so a
	// resend carries the same Message-ID and receivers can drop it.
	Key string
	To  string
	// Subject is the subject of the message answered; "Re: " is added.
	Subject string
	// InReplyTo is the Message-ID answered ("" for a reply to the
	// enquiry form); References is the thread before it, oldest first.
	InReplyTo  string
	References []string
	Text       string
	// Date is when the reply was first attempted, so every attempt is
	// the same message.
	Date time.Time
}

// Reply sends r over SMTP, threaded by In-Reply-To and References (RFC
// 5322 §3.6.4), and returns its Message-ID (without brackets).
func (c *Connector) Reply(ctx context.Context, r ReplyMail) (string, error) {
	if c.cfg.Transport != nil {
		return "", notSMTP()
	}
	to, err := mail.ParseAddress(r.To)
	if err != nil {
		return "", channel.Permanent("email: the resident's address is not valid")
	}
	msg, id := c.replyMessage(to.Address, r)
	cl, err := c.open(ctx)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	if err := c.transmit(cl, to.Address, msg); err != nil {
		return "", err
	}
	if err := cl.Quit(); err != nil {
		return "", classify("quit", err)
	}
	return id, nil
}

func (c *Connector) replyMessage(to string, r ReplyMail) ([]byte, string) {
	sum := sha256.Sum256([]byte("reply\x00" + r.Key))
	domain := c.from.Address[strings.LastIndexByte(c.from.Address, '@')+1:]
	id := "reply-" + hex.EncodeToString(sum[:12]) + "@" + domain
	subject := oneLine(r.Subject)
	if subject == "" {
		subject = "Your enquiry"
	}
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	h("From", c.from.String())
	h("To", "<"+to+">")
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", r.Date.Format(time.RFC1123Z))
	h("Message-ID", "<"+id+">")
	if r.InReplyTo != "" {
		h("In-Reply-To", "<"+r.InReplyTo+">")
		refs := make([]string, 0, len(r.References)+1)
		for _, ref := range append(r.References, r.InReplyTo) {
			if ref != "" && !strings.ContainsAny(ref, "<> \r\n") {
				refs = append(refs, "<"+ref+">")
			}
		}
		h("References", strings.Join(refs, " "))
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(r.Text, "\r\n", "\n"), "\n", "\r\n") + "\r\n"))
	qp.Close()
	return b.Bytes(), id
}
