package feed

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
)

// icalLineOctets is RFC 5545's limit on a content line, CRLF excluded.
const icalLineOctets = 75

// RoundCalendar writes an iCalendar of a bin round's collection days: one
// all-day event per collection day from the day of from (in the site's
// time zone) for weeks weeks.
//
// The rule for disruptions: a notice changes a collection day when it is a
// waste notice, it is not closed, its status is a disruption, it names the
// round, the round's ward or the whole area, and its window covers the
// day. The window runs from Starts (or, without one, the day it was
// published) to Ends; a notice without Ends lasts until it is closed,
// because that is what "until further notice" means. Cancelled and closed
// make the event STATUS:CANCELLED; delayed and partially-open prefix the
// summary with "Delayed:". Where several notices cover one day, a
// cancellation wins and every headline is listed in the description.
//
// Each event's UID is the round and date, so clients update the event in
// place when a disruption is announced or lifted. DTSTAMP is when the
// event's information last changed: the newest update of the notices
// affecting it, or else the start of from's day. It never depends on the
// exact time of from, so a calendar built with from = time.Now() keeps the
// same bytes (and ETag) all day until a notice changes.
func RoundCalendar(w io.Writer, site Site, round signpost.Round, notices []signpost.Notice, from time.Time, weeks int) error {
	if weeks < 0 {
		return signpost.Errorf(signpost.EINVALID, "weeks is %d; want 0 or more", weeks)
	}
	if round.Day < time.Sunday || round.Day > time.Saturday {
		return signpost.Errorf(signpost.EINVALID, "round %s has no valid collection day", round.ID)
	}
	loc := site.location()
	var c icalBuf
	c.line("BEGIN:VCALENDAR")
	c.line("VERSION:2.0")
	c.prop("PRODID", "-//"+site.Name+"//Signpost//EN")
	c.line("CALSCALE:GREGORIAN")
	c.line("METHOD:PUBLISH")
	name := "Bin collections, round " + round.ID
	if site.Name != "" {
		name = site.Name + ": " + name
	}
	c.prop("X-WR-CALNAME", name)
	// Disruptions change these events at short notice; ask subscribing
	// clients to look again every few hours rather than daily.
	c.line("REFRESH-INTERVAL;VALUE=DURATION:PT3H")
	c.line("X-PUBLISHED-TTL:PT3H")

	relevant := roundNotices(round, notices)
	summary := "Bin collection: " + streamList(round.Streams)
	l := site.links()

	start := from.In(loc)
	today := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	day := today
	for day.Weekday() != round.Day {
		day = day.AddDate(0, 0, 1)
	}
	end := time.Date(start.Year(), start.Month(), start.Day()+7*weeks, 0, 0, 0, 0, loc)
	for ; day.Before(end); day = day.AddDate(0, 0, 7) {
		next := day.AddDate(0, 0, 1)
		cancelled, delayed, desc, link, changed := dayDisruption(l, relevant, day, next)
		stamp := today
		if changed.After(stamp) {
			stamp = changed
		}
		c.line("BEGIN:VEVENT")
		c.prop("UID", "round-"+round.ID+"-"+day.Format("20060102")+"@"+l.host)
		c.line("DTSTAMP:" + stamp.UTC().Format("20060102T150405Z"))
		c.line("DTSTART;VALUE=DATE:" + day.Format("20060102"))
		c.line("DTEND;VALUE=DATE:" + next.Format("20060102"))
		switch {
		case cancelled:
			c.prop("SUMMARY", "Cancelled: "+summary)
			c.line("STATUS:CANCELLED")
		case delayed:
			c.prop("SUMMARY", "Delayed: "+summary)
			c.line("STATUS:CONFIRMED")
		default:
			c.prop("SUMMARY", summary)
			c.line("STATUS:CONFIRMED")
		}
		if desc != "" {
			c.prop("DESCRIPTION", desc)
		}
		if link != "" {
			c.line("URL:" + icalURI(link))
		}
		c.line("TRANSP:TRANSPARENT")
		c.line("END:VEVENT")
	}
	c.line("END:VCALENDAR")
	if _, err := w.Write(c.Bytes()); err != nil {
		return fmt.Errorf("write round calendar: %w", err)
	}
	return nil
}

// roundNotices keeps the notices that can disrupt the round, newest first
// so descriptions lead with the latest word.
func roundNotices(round signpost.Round, notices []signpost.Notice) []signpost.Notice {
	var out []signpost.Notice
	for _, n := range notices {
		if n.Category != signpost.CategoryWaste || n.Closed() || !n.Status.Disrupted() {
			continue
		}
		if n.Affects(signpost.PlaceRound, round.ID) || (round.WardCode != "" && n.Affects(signpost.PlaceWard, round.WardCode)) {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out
}

// dayDisruption reports how the notices change the collection on the day
// [day, next), and when the newest of those notices was updated.
func dayDisruption(l links, notices []signpost.Notice, day, next time.Time) (cancelled, delayed bool, desc, link string, changed time.Time) {
	var lines []string
	for _, n := range notices {
		start := n.PublishedAt
		if n.Starts != nil {
			start = *n.Starts
		}
		if !start.Before(next) || (n.Ends != nil && !n.Ends.After(day)) {
			continue
		}
		switch n.Status {
		case signpost.StatusCancelled, signpost.StatusClosed:
			cancelled = true
		default:
			delayed = true
		}
		line := n.Status.Label() + ": " + strings.TrimSpace(clean(n.Headline))
		if body := strings.TrimSpace(clean(n.Body)); body != "" {
			line += "\n" + body
		}
		lines = append(lines, line)
		if link == "" {
			link = l.notice(n.ID)
		}
		if n.UpdatedAt.After(changed) {
			changed = n.UpdatedAt
		}
	}
	return cancelled, delayed, strings.Join(lines, "\n\n"), link, changed
}

// streamList writes streams as residents say them: "refuse, recycling and
// garden waste".
func streamList(streams []string) string {
	switch len(streams) {
	case 0:
		return "waste"
	case 1:
		return streams[0]
	}
	return strings.Join(streams[:len(streams)-1], ", ") + " and " + streams[len(streams)-1]
}

// icalURI drops characters that cannot appear in a URI value so a bad base
// URL cannot break the line structure.
func icalURI(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r >= 0x80 {
			return -1
		}
		return r
	}, s)
}

// icalBuf builds an iCalendar stream with CRLF line endings and lines
// folded at 75 octets.
type icalBuf struct {
	bytes.Buffer
}

var icalTextEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)

// prop writes NAME:value with value escaped as TEXT.
func (c *icalBuf) prop(name, value string) {
	c.line(name + ":" + icalTextEscaper.Replace(clean(value)))
}

// line writes one content line, folding it so no physical line exceeds 75
// octets: each continuation starts with a space, which counts toward the
// limit, and a fold never falls inside a UTF-8 sequence.
func (c *icalBuf) line(s string) {
	limit := icalLineOctets
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		c.WriteString(s[:cut])
		c.WriteString("\r\n ")
		s = s[cut:]
		limit = icalLineOctets - 1
	}
	c.WriteString(s)
	c.WriteString("\r\n")
}
