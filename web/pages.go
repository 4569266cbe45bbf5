package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one template set per page, each the layout plus that page.
type pages struct {
	sets map[string]*template.Template
	site siteView
	loc  *time.Location
}

// siteView is what every page shows about the council.
type siteView struct {
	CouncilName string
	ServiceName string
	LogoURL     template.URL // checked by logoURL: same-origin path or data:image
	BrandColour string
	ContactURL  string
	BaseURL     string
}

// page is the data every template gets; Data is the page's own.
type page struct {
	Site        siteView
	Title       string
	Error       bool
	Nav         []navItem
	Breadcrumbs []link
	Canonical   string
	FeedQuery   string
	FeedTitle   string
	JSONLD      any // marshalled and escaped by html/template in the script element
	Now         time.Time
	Data        any
	// StaffPath is set on staff pages (the path of the page's section):
	// they get the staff navigation and are kept out of search engines.
	StaffPath string
	// Staff is who is signed in, on staff pages.
	Staff *staffView
	// PreElection shows the pre-election banner on staff pages.
	PreElection bool
	// UnhealthyChannels, on staff pages, names the channels that have
	// stopped working; AdminChannels says the reader can fix them.
	UnhealthyChannels []string
	AdminChannels     bool
}

type navItem struct {
	Href, Label string
	Active      bool
}

type link struct{ Href, Label string }

type tagView struct{ Label, Class string }

var pageNames = []string{"home", "area", "notice", "place", "list", "error", "staff_sign_in", "staff_home", "staff_check", "staff_archive", "staff_deliveries",
	"subscribe", "subscribe_sent", "subscribe_confirm", "unsubscribe",
	"staff_inbox", "staff_inbox_conversation", "staff_inbox_saved", "staff_inbox_stats", "staff_inbox_export", "contact", "contact_sent",
	"staff_notices", "staff_compose", "staff_item", "staff_published", "staff_settings",
	"staff_users", "staff_user", "staff_costs", "staff_retention",
	"staff_channels", "staff_channel_new", "staff_channel", "staff_channel_remove"}

func newPages(cfg Config) (*pages, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("web: timezone %q: %w", cfg.Timezone, err)
	}
	p := &pages{
		sets: map[string]*template.Template{},
		site: siteView{CouncilName: cfg.CouncilName, ServiceName: cfg.ServiceName, LogoURL: template.URL(cfg.LogoURL), BrandColour: cfg.BrandColour, ContactURL: cfg.ContactURL, BaseURL: cfg.BaseURL},
		loc:  loc,
	}
	funcs := template.FuncMap{
		"when":       func(t any) string { return formatWhen(t, loc) },
		"iso":        func(t any) string { return formatISO(t, loc) },
		"tag":        statusTag,
		"km":         func(f float64) string { return fmt.Sprintf("%.1f km", f) },
		"paragraphs": paragraphs,
		"lower":      strings.ToLower,
		"inc":        func(i int) int { return i + 1 },
		"pounds":     pounds,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone layout: %w", err)
		}
		files := []string{"templates/" + name + ".html"}
		if name == "list" {
			// The list pages reuse the place page's tables; list.html's
			// "content" replaces place.html's.
			files = []string{"templates/place.html", "templates/list.html"}
		}
		if t, err = t.ParseFS(templateFS, files...); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// render executes a page into bytes; the caller caches them.
func (p *pages) render(name string, pg *page) ([]byte, error) {
	t, ok := p.sets[name]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", name)
	}
	pg.Site = p.site
	pg.Nav = navFor(pg.Canonical)
	if pg.StaffPath != "" {
		pg.Nav = staffNavFor(pg.StaffPath, pg.Staff != nil)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// navFor marks the header link for the section a path belongs to.
func navFor(path string) []navItem {
	items := []navItem{
		{Href: "/", Label: "Today"},
		{Href: "/area", Label: "Check your area"},
		{Href: "/schools", Label: "Schools"},
		{Href: "/routes", Label: "Gritting"},
		{Href: "/rounds", Label: "Bins"},
		{Href: "/wards", Label: "Wards"},
		{Href: "/map", Label: "Map"},
	}
	for i := range items {
		h := items[i].Href
		items[i].Active = path == h || (h != "/" && strings.HasPrefix(path, h+"/"))
	}
	return items
}

// staffNavFor is the staff area's header menu; nobody signed in sees only
// the way back to the residents' site.
func staffNavFor(path string, signedIn bool) []navItem {
	items := []navItem{{Href: "/", Label: "Residents' site"}}
	if signedIn {
		items = []navItem{
			{Href: "/staff", Label: "Staff home"},
			{Href: "/staff/notices", Label: "Notices"},
			{Href: "/staff/check", Label: "Before you post"},
			{Href: "/staff/inbox", Label: "Inbox"},
			{Href: "/staff/shift", Label: "Channel shift"},
			{Href: "/staff/archive", Label: "Archive"},
			{Href: "/", Label: "Residents' site"},
		}
	}
	for i := range items {
		items[i].Active = items[i].Href == path
	}
	return items
}

// pounds writes an amount of money (a float64 or *float64) as £1.23.
func pounds(v any) string {
	switch f := v.(type) {
	case float64:
		return fmt.Sprintf("£%.2f", f)
	case *float64:
		if f != nil {
			return fmt.Sprintf("£%.2f", *f)
		}
	}
	return ""
}

func asTime(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v != nil {
			return *v, !v.IsZero()
		}
	}
	return time.Time{}, false
}

// formatWhen writes a time as GOV.UK style does: "7:05am on Tuesday 25
// November 2026".
func formatWhen(t any, loc *time.Location) string {
	tt, ok := asTime(t)
	if !ok {
		return ""
	}
	tt = tt.In(loc)
	clock := strings.ToLower(tt.Format("3:04PM"))
	if tt.Minute() == 0 {
		clock = strings.ToLower(tt.Format("3PM"))
	}
	if tt.Hour() == 12 && tt.Minute() == 0 {
		clock = "midday"
	}
	return clock + " on " + tt.Format("Monday 2 January 2006")
}

func formatISO(t any, loc *time.Location) string {
	tt, ok := asTime(t)
	if !ok {
		return ""
	}
	return tt.In(loc).Format(time.RFC3339)
}

// statusTag is a status as a tag, coloured by the stylesheet's
// app-status--<status> classes; the label carries the meaning, so colour is
// never the only signal.
func statusTag(s signpost.Status) tagView {
	if !s.Valid() {
		return tagView{Label: s.Label(), Class: "govuk-tag--grey"}
	}
	return tagView{Label: s.Label(), Class: "app-status app-status--" + string(s)}
}

// paragraphs splits a plain-text body on blank lines.
func paragraphs(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(body, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Join(strings.Fields(p), " "))
		}
	}
	return out
}

// checkLogoURL accepts what the CSP (img-src 'self' data:) lets a browser
// show: a same-origin path, or an image as a data: URL. html/template would
// otherwise refuse a data: URL, so NewServer checks it here instead.
func checkLogoURL(u string) error {
	switch {
	case u == "":
		return nil
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.ContainsAny(u, "\"<> "):
		return nil
	case strings.HasPrefix(u, "data:image/") && !strings.ContainsAny(u, "\"<> "):
		return nil
	}
	return signpost.Errorf(signpost.EINVALID, "logo URL %q: use a path on this site (/static/logo.png) or a data:image/… URL; the content security policy blocks other images", truncateRunes(u, 40))
}
