package feed

import (
	"fmt"
	"io"
	"time"

	"github.com/signpost-uk/signpost"
)

// atomTime is RFC 3339 without fractional seconds, which every Atom reader
// accepts.
const atomTime = "2006-01-02T15:04:05Z07:00"

// Atom writes notices, in the order given, as an Atom 1.0 feed. Entry ids
// are tag: URIs that stay the same across revisions; updated is the
// revision time and published the first publication.
func Atom(w io.Writer, site Site, meta Meta, notices []signpost.Notice) error {
	var b xmlBuf
	loc := site.location()
	l := site.links()
	b.Grow(1024 + 1024*len(notices))
	atomHead(&b, site, meta, latest(notices, meta.Updated))
	for _, n := range notices {
		link := l.notice(n.ID)
		b.WriteString("<entry>\n")
		b.elem("id", l.noticeTag(n.ID))
		b.elem("title", n.Headline)
		b.elem("updated", n.UpdatedAt.In(loc).Format(atomTime))
		if !n.PublishedAt.IsZero() {
			b.elem("published", n.PublishedAt.In(loc).Format(atomTime))
		}
		b.empty("link", "rel", "alternate", "type", "text/html", "href", link)
		b.empty("category", "term", string(n.Category), "label", n.Category.Label())
		b.elem("summary", statusLine(n, loc))
		b.open("content", "type", "text")
		b.text(contentText(n, loc))
		b.close("content")
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write atom feed: %w", err)
	}
	return nil
}

// atomHead writes the XML declaration and the feed-level elements shared by
// the notice feed and the CAP index.
// The feed's id is its own absolute URL: stable, unique and what readers
// already key feeds on.
func atomHead(b *xmlBuf, site Site, meta Meta, updated time.Time) {
	page := meta.PagePath
	if page == "" {
		page = "/"
	}
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.open("feed", "xmlns", "http://www.w3.org/2005/Atom", "xml:lang", site.language())
	b.WriteByte('\n')
	b.elem("id", site.URL(meta.SelfPath))
	b.elem("title", meta.Title)
	b.elem("updated", updated.In(site.location()).Format(atomTime))
	b.empty("link", "rel", "self", "type", "application/atom+xml", "href", site.URL(meta.SelfPath))
	b.empty("link", "rel", "alternate", "type", "text/html", "href", site.URL(page))
	b.WriteString("<author>\n")
	b.elem("name", site.Name)
	b.elem("uri", site.URL("/"))
	b.WriteString("</author>\n")
	b.elem("generator", "Signpost")
}
