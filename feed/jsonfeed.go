package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/signpost-uk/signpost"
)

// JSONFeedVersion is the version URL JSON Feed 1.1 documents declare.
const JSONFeedVersion = "https://jsonfeed.org/version/1.1"

type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Language    string         `json:"language"`
	Authors     []jsonAuthor   `json:"authors"`
	Items       []jsonFeedItem `json:"items"` // never null: the spec requires an array
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonFeedItem struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	Title         string   `json:"title"`
	Summary       string   `json:"summary"`
	ContentText   string   `json:"content_text"`
	DatePublished string   `json:"date_published,omitempty"`
	DateModified  string   `json:"date_modified"`
	Tags          []string `json:"tags"`
}

// JSONFeed writes notices, in the order given, as a JSON Feed 1.1 document.
// Item ids match the Atom entry ids; tags carry the category and status so
// clients can filter without parsing text.
func JSONFeed(w io.Writer, site Site, meta Meta, notices []signpost.Notice) error {
	loc := site.location()
	l := site.links()
	page := meta.PagePath
	if page == "" {
		page = "/"
	}
	f := jsonFeed{
		Version:     JSONFeedVersion,
		Title:       clean(meta.Title),
		HomePageURL: site.URL(page),
		FeedURL:     site.URL(meta.SelfPath),
		Language:    site.language(),
		Authors:     []jsonAuthor{{Name: clean(site.Name), URL: site.URL("/")}},
		Items:       make([]jsonFeedItem, 0, len(notices)),
	}
	for _, n := range notices {
		it := jsonFeedItem{
			ID:           l.noticeTag(n.ID),
			URL:          l.notice(n.ID),
			Title:        clean(n.Headline),
			Summary:      statusLine(n, loc),
			ContentText:  contentText(n, loc),
			DateModified: n.UpdatedAt.In(loc).Format(atomTime),
			Tags:         []string{string(n.Category), string(n.Status)},
		}
		if !n.PublishedAt.IsZero() {
			it.DatePublished = n.PublishedAt.In(loc).Format(atomTime)
		}
		if n.Closed() {
			it.Tags = append(it.Tags, "ended")
		}
		f.Items = append(f.Items, it)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// The feed is served as application/feed+json, never inlined in HTML,
	// so "<" and "&" can stay readable.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encode json feed: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write json feed: %w", err)
	}
	return nil
}
