package email

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/signpost-uk/signpost/channel"
)

// Message is what the inbox needs of a received e-mail.
type Message struct {
	MessageID  string   // without angle brackets
	InReplyTo  string   // the first id of In-Reply-To, without brackets
	References []string // oldest first, without brackets
	From       string   // the address
	FromName   string
	Subject    string
	Date       time.Time // zero when missing or unreadable
	// Text is the text/plain body, or the text/html body as text when
	// there is no plain one.
	Text string
	// AutoReply says the message was sent by a machine (an out-of-office
	// reply, a bounce), which must not be answered.
	AutoReply bool
}

// maxParts and maxDepth bound the work a hostile message can cause.
const (
	maxParts = 100
	maxDepth = 8
)

// ParseMessage reads an RFC 5322 message: headers (RFC 2047 encoded words
// in any charset Go knows by its WHATWG name), and the body through
// multipart/alternative, mixed and related parts, quoted-printable and
// base64, converted to UTF-8 from its charset. Errors say what was wrong.
func ParseMessage(raw []byte) (Message, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("e-mail: headers: %w", err)
	}
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	h := m.Header
	var out Message
	out.MessageID = firstID(h.Get("Message-ID"))
	out.InReplyTo = firstID(h.Get("In-Reply-To"))
	out.References = ids(h.Get("References"))
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err == nil {
		out.Subject = strings.Join(strings.Fields(subj), " ")
	} else {
		out.Subject = strings.Join(strings.Fields(h.Get("Subject")), " ")
	}
	if d, err := mail.ParseDate(h.Get("Date")); err == nil {
		out.Date = d.UTC()
	}
	parser := mail.AddressParser{WordDecoder: dec}
	from, err := parser.Parse(h.Get("From"))
	if err != nil {
		return Message{}, fmt.Errorf("e-mail: From %q: %w", h.Get("From"), err)
	}
	// Encoded words declared UTF-8 are not checked by the decoder.
	out.From, out.FromName = strings.ToLower(from.Address), strings.ToValidUTF8(from.Name, "\uFFFD")
	out.Subject = strings.ToValidUTF8(out.Subject, "\uFFFD")
	auto := strings.ToLower(h.Get("Auto-Submitted"))
	out.AutoReply = (auto != "" && auto != "no") || h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" ||
		strings.EqualFold(h.Get("Precedence"), "auto_reply") || strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "multipart/report")

	parts := 0
	plain, html, err := bodyText(h, m.Body, 0, &parts)
	if err != nil {
		return Message{}, err
	}
	switch {
	case plain != "":
		out.Text = plain
	case html != "":
		out.Text = channel.TextFromHTML(html)
	}
	out.Text = strings.TrimSpace(strings.ReplaceAll(out.Text, "\r\n", "\n"))
	return out, nil
}

// header is what bodyText reads of a part's headers.
type header interface{ Get(string) string }

// bodyText returns the first text/plain and text/html bodies in a part
// and its children.
func bodyText(h header, body io.Reader, depth int, parts *int) (plain, html string, err error) {
	*parts++
	if depth > maxDepth || *parts > maxParts {
		return "", "", errors.New("e-mail: too many nested parts")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		// RFC 2045 §5.2: an unreadable Content-Type means plain text.
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.EqualFold(h.Get("Content-Disposition"), "attachment") || strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment;") {
		return "", "", nil
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			return "", "", fmt.Errorf("e-mail: %s part without a boundary", mediaType)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return plain, html, nil
			}
			if err != nil {
				return plain, html, fmt.Errorf("e-mail: %s: %w", mediaType, err)
			}
			pl, ht, err := bodyText(p.Header, p, depth+1, parts)
			if err != nil {
				return plain, html, err
			}
			if plain == "" {
				plain = pl
			}
			if html == "" {
				html = ht
			}
		}
	case mediaType == "text/plain" || mediaType == "text/html":
		text, err := decodeBody(body, h.Get("Content-Transfer-Encoding"), params["charset"])
		if err != nil {
			return "", "", err
		}
		if mediaType == "text/plain" {
			return text, "", nil
		}
		return "", text, nil
	}
	return "", "", nil
}

// maxBodyBytes bounds one decoded text part; the inbox keeps 64 KB.
const maxBodyBytes = 1 << 20

// decodeBody undoes the transfer encoding and converts the charset to
// UTF-8. Bytes that are not valid in the charset become U+FFFD.
func decodeBody(body io.Reader, encoding, charset string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &skipSpace{r: body})
	}
	b, err := io.ReadAll(io.LimitReader(body, maxBodyBytes))
	if err != nil {
		return "", fmt.Errorf("e-mail: body (%s): %w", encoding, err)
	}
	charset = strings.ToLower(strings.TrimSpace(charset))
	if charset == "" || charset == "utf-8" || charset == "us-ascii" {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	r, err := charsetReader(charset, bytes.NewReader(b))
	if err != nil {
		// An unknown charset: keep what is readable rather than lose the
		// message.
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// charsetReader converts from a charset named as the WHATWG Encoding
// Standard names them (which covers what mail clients send:
// iso-8859-1, windows-1252, iso-2022-jp, gb2312, …).
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(r), nil
}

// skipSpace drops the line breaks and spaces base64 bodies are wrapped
// with, which encoding/base64's decoder tolerates only as \r and \n.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// firstID returns the first <id> in a header, without brackets, or the
// whole trimmed value when it has none.
func firstID(v string) string {
	if all := ids(v); len(all) > 0 {
		return all[0]
	}
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || strings.ContainsAny(v, " \t\r\n<>") {
		return ""
	}
	return v
}

// ids returns every <id> in a header, in order, without brackets.
func ids(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return out
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" && utf8.ValidString(id) && !strings.ContainsAny(id, " \t\r\n<") {
			out = append(out, id)
		}
		v = v[i+j+1:]
	}
}
