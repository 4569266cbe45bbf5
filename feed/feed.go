// Package feed encodes Signpost notices for machines: Atom 1.0 (RFC 4287)
// and JSON Feed 1.1 lists of notices, one OASIS CAP 1.2 alert per notice
// with an Atom index of alerts, and an iCalendar (RFC 5545) calendar of a
// bin round's collection days that reflects disruption notices. The
// encoders are pure functions over the domain types: no database, no HTTP.
// They write complete documents to an io.Writer in one call, so the web
// layer can cache the bytes and serve them under load.
//
// The API:
//
//	Atom(w, site, meta, notices)              notices as an Atom feed
//	JSONFeed(w, site, meta, notices)          notices as a JSON Feed 1.1
//	CAPAlert(w, site, notice, previous, areas) one CAP 1.2 alert
//	CAPIndex(w, site, meta, notices, capURL)  Atom index of CAP alerts
//	RoundCalendar(w, site, round, notices, from, weeks) bin round .ics
//
// Site describes the council (name, absolute base URL, language, time
// zone; check it once with Site.Validate); Meta describes one feed (title,
// self and page paths). For CAP areas the caller maps each place to an
// Area; SchoolArea and RouteArea build the usual ones. Text from
// notices is cleaned before it is written: invalid UTF-8 becomes U+FFFD,
// CRLF becomes LF, and control characters that XML 1.0 forbids (and that
// iCalendar TEXT forbids) are dropped, so every output stays well formed
// whatever an author typed.
package feed

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
)

// Site is what every feed says about the council publishing it.
type Site struct {
	Name     string // council name, e.g. "Northdale Council"
	BaseURL  string // absolute, e.g. "https://signpost.northdale.gov.uk"
	Language string // BCP 47 tag; "en-GB" when empty
	// Location is the council's time zone, used for CAP times and for
	// which calendar day a collection falls on; UTC when nil.
	Location *time.Location
	// NoticePath is the path of a notice page before its id; "/notices/"
	// when empty.
	NoticePath string
	// TagYear dates the tag: URIs that identify entries (RFC 4151). It must
	// never change once feeds are published, or readers see every entry
	// as new; 2026 when zero.
	TagYear int
}

// Meta describes one feed: its title and where it lives. Paths are resolved
// against Site.BaseURL and may carry a query ("/feeds/notices.atom?ward=W1").
type Meta struct {
	Title    string
	SelfPath string // the feed's own URL
	PagePath string // the HTML page showing the same notices; "/" when empty
	// Updated is used for the feed's updated time when no notice is newer,
	// typically when the list is empty; the Unix epoch when zero.
	Updated time.Time
}

// Validate reports an EINVALID error when the site cannot produce valid
// feeds: Atom ids and links, JSON Feed URLs and CAP web elements must be
// absolute, so BaseURL must be an absolute http or https URL.
func (s Site) Validate() error {
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return signpost.Errorf(signpost.EINVALID, "base URL %q must be absolute, like https://signpost.example.gov.uk", s.BaseURL)
	}
	if strings.TrimSpace(s.Name) == "" {
		return signpost.Errorf(signpost.EINVALID, "the council name is required for feeds")
	}
	return nil
}

func (s Site) language() string {
	if s.Language == "" {
		return "en-GB"
	}
	return s.Language
}

func (s Site) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// URL resolves path against BaseURL. Paths that are already absolute URLs
// are returned unchanged.
func (s Site) URL(path string) string {
	base, err := url.Parse(s.BaseURL)
	if err != nil || base.Host == "" {
		return path
	}
	ref, err := url.Parse(path)
	if err != nil {
		return strings.TrimRight(s.BaseURL, "/") + "/" + strings.TrimLeft(path, "/")
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	// Treat "/x" as relative to the base path, so a site hosted under a
	// prefix ("https://council.example/signpost") keeps its prefix.
	if !ref.IsAbs() && strings.HasPrefix(ref.Path, "/") {
		ref.Path = strings.TrimLeft(ref.Path, "/")
	}
	return base.ResolveReference(ref).String()
}

// NoticeURL is the absolute URL of a notice's page.
func (s Site) NoticeURL(id int64) string { return s.links().notice(id) }

// links holds what every entry's URLs and ids are built from, worked out
// once per document rather than once per notice: parsing the base URL
// dominated encoding time otherwise.
type links struct {
	noticeBase string // absolute URL of a notice page without its id
	tag        string // tag: URI prefix
	host       string
}

func (s Site) links() links {
	p := s.NoticePath
	if p == "" {
		p = "/notices/"
	}
	return links{noticeBase: s.URL(p), tag: s.tagPrefix(), host: s.host()}
}

func (l links) notice(id int64) string { return l.noticeBase + strconv.FormatInt(id, 10) }

func (l links) noticeTag(id int64) string { return l.tag + "notice/" + strconv.FormatInt(id, 10) }

func (l links) capID(n signpost.Notice) string {
	return l.host + "-notice-" + strconv.FormatInt(n.ID, 10) + "-r" + strconv.Itoa(n.Revision)
}

// host is the base URL's host name reduced to characters that are safe in
// tag URIs and CAP identifiers (CAP forbids spaces, commas and < &).
func (s Site) host() string {
	u, err := url.Parse(s.BaseURL)
	h := ""
	if err == nil {
		h = u.Hostname()
	}
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "localhost"
	}
	return b.String()
}

func (s Site) tagPrefix() string {
	y := s.TagYear
	if y == 0 {
		y = 2026
	}
	return "tag:" + s.host() + "," + strconv.Itoa(y) + ":"
}

// NoticeTag is the notice's permanent Atom/JSON Feed id; it is the same for
// every revision so readers update the entry instead of adding one.
func (s Site) NoticeTag(id int64) string { return s.links().noticeTag(id) }

// clean makes author text safe for XML 1.0, JSON and iCalendar TEXT:
// invalid UTF-8 becomes U+FFFD, CRLF and lone CR become LF, and control
// characters other than tab and newline, surrogates and the non-characters
// U+FFFE/U+FFFF are dropped. Text that needs no change is returned as is,
// without allocating.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !allowed(r) {
			ok = false
			break
		}
		i += size
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // the LF that follows is kept
			}
			b.WriteByte('\n')
		case allowed(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// allowed reports whether r may appear in cleaned text. CR is not: it is
// normalised to LF.
func allowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return true
	case r < 0x20 || r == 0x7f:
		return false
	case r >= 0x80 && r <= 0x9f: // C1 controls: legal XML 1.0 but useless and rejected by iCalendar TEXT
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}

// statusLine is the one-line state residents read first.
func statusLine(n signpost.Notice, loc *time.Location) string {
	if n.Closed() {
		return "No longer in effect (closed " + n.ClosedAt.In(loc).Format("2 January 2006 15:04") + "). Last status: " + n.Status.Label() + "."
	}
	return "Status: " + n.Status.Label() + "."
}

// contentText is the plain-text body the feeds carry: status first, then
// the author's text.
func contentText(n signpost.Notice, loc *time.Location) string {
	body := strings.TrimSpace(clean(n.Body))
	if body == "" {
		return statusLine(n, loc)
	}
	return statusLine(n, loc) + "\n\n" + body
}

// latest returns the newest UpdatedAt among notices, or fallback when none
// is newer.
func latest(notices []signpost.Notice, fallback time.Time) time.Time {
	t := fallback
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	for _, n := range notices {
		if n.UpdatedAt.After(t) {
			t = n.UpdatedAt
		}
		if n.ClosedAt != nil && n.ClosedAt.After(t) {
			t = *n.ClosedAt
		}
	}
	return t
}
