package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/feed"
)

type feedKind int

const (
	feedAtom feedKind = iota
	feedJSON
)

// Content types of the machine-readable outputs.
const (
	contentTypeAtom     = "application/atom+xml; charset=utf-8"
	contentTypeJSONFeed = "application/feed+json; charset=utf-8"
	contentTypeCAP      = "application/common-alerting-protocol+xml; charset=utf-8"
	contentTypeCalendar = "text/calendar; charset=utf-8"
)

// Feeds carry every open notice and those closed within feedClosedFor, so
// readers see a disruption end; at most feedMax entries.
const (
	feedClosedFor = 7 * 24 * time.Hour
	feedMax       = 100
	calendarWeeks = 8
)

func (s *Server) feedSite() feed.Site {
	return feed.Site{Name: s.cfg.CouncilName, BaseURL: s.cfg.BaseURL, Language: "en-GB", Location: s.loc}
}

// feedNotices picks the notices a feed carries, newest first.
func (snap *snapshot) feedNotices(f noticeQuery) []signpost.Notice {
	f.IncludeClosed = true
	cutoff := snap.builtAt.Add(-feedClosedFor)
	var out []signpost.Notice
	for _, n := range snap.filterNotices(f) {
		if n.Closed() && n.ClosedAt.Before(cutoff) {
			continue
		}
		out = append(out, *n)
		if len(out) == feedMax {
			break
		}
	}
	return out
}

// feedTitle names a feed after its filters: "Northdale Council service
// disruptions: schools in Harbour".
func (s *Server) feedTitle(snap *snapshot, f noticeQuery) string {
	t := s.cfg.CouncilName + " service disruptions"
	if f.Category != "" {
		t += ": " + strings.ToLower(f.Category.Label())
	}
	if f.Ward != "" {
		t += " in " + snap.wardName(f.Ward)
	}
	return t
}

func feedQueryString(f noticeQuery) string {
	var parts []string
	if f.Category != "" {
		parts = append(parts, "category="+string(f.Category))
	}
	if f.Ward != "" {
		parts = append(parts, "ward="+f.Ward)
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

func (s *Server) handleNoticeFeed(kind feedKind) http.Handler {
	path, ctype := "/feeds/notices.atom", contentTypeAtom
	if kind == feedJSON {
		path, ctype = "/feeds/notices.json", contentTypeJSONFeed
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := s.current(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := parseNoticeQuery(r.URL.Query(), snap, false)
		if err != nil {
			s.feedError(w, r, err)
			return
		}
		s.count(channelFeed, f.Category)
		s.serveCached(w, r, "feed:"+path+"?"+f.key(), func(ctx context.Context, snap *snapshot) (*response, error) {
			page := "/"
			if f.Ward != "" {
				page = "/wards/" + f.Ward
			}
			meta := feed.Meta{Title: s.feedTitle(snap, f), SelfPath: path + feedQueryString(f), PagePath: page, Updated: snap.builtAt}
			var buf bytes.Buffer
			notices := snap.feedNotices(f)
			if kind == feedJSON {
				err = feed.JSONFeed(&buf, s.feedSite(), meta, notices)
			} else {
				err = feed.Atom(&buf, s.feedSite(), meta, notices)
			}
			if err != nil {
				return nil, err
			}
			return newResponse(http.StatusOK, ctype, buf.Bytes(), snap.builtAt, s.cfg.CacheControl), nil
		})
	})
}

// feedError answers a bad feed request in plain text: feed readers show
// the body to whoever subscribed, and a page of HTML helps nobody there.
func (s *Server) feedError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(signpost.ErrorCode(err))
	if status >= 500 {
		s.fail(w, r, err)
		return
	}
	msg := signpost.ErrorMessage(err) + "\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	w.Write([]byte(msg))
}

func (s *Server) handleCAPIndex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(channelFeed, "")
		s.serveCached(w, r, "feed:cap", func(ctx context.Context, snap *snapshot) (*response, error) {
			meta := feed.Meta{Title: s.cfg.CouncilName + " service disruption alerts (CAP)", SelfPath: "/feeds/cap.atom", PagePath: "/", Updated: snap.builtAt}
			var buf bytes.Buffer
			capURL := func(n signpost.Notice) string { return "/cap/" + strconv.FormatInt(n.ID, 10) + ".xml" }
			if err := feed.CAPIndex(&buf, s.feedSite(), meta, snap.feedNotices(noticeQuery{}), capURL); err != nil {
				return nil, err
			}
			return newResponse(http.StatusOK, contentTypeAtom, buf.Bytes(), snap.builtAt, s.cfg.CacheControl), nil
		})
	})
}

// capArea describes the places a notice names for CAP.
func (s *Server) capArea(snap *snapshot) feed.AreaFunc {
	return func(p signpost.PlaceRef) (feed.Area, bool) {
		switch p.Kind {
		case signpost.PlaceSchool:
			if sc := snap.schoolByURN[p.ID]; sc != nil {
				return feed.SchoolArea(*sc), true
			}
		case signpost.PlaceRoute:
			if rt := snap.routeByID[p.ID]; rt != nil {
				return feed.RouteArea(*rt, 0.1), true
			}
		case signpost.PlaceRound:
			if rd := snap.roundByID[p.ID]; rd != nil {
				return feed.Area{Desc: "Bin collection round " + rd.ID + " (postcodes " + rd.Sector + ", " + snap.wardName(rd.WardCode) + " ward)"}, true
			}
		case signpost.PlaceWard:
			if wd := snap.wardByCode[p.ID]; wd != nil {
				return feed.Area{Desc: wd.Name + " ward"}, true
			}
		case signpost.PlaceAll:
			return feed.Area{Desc: s.cfg.CouncilName + " area"}, true
		}
		return feed.Area{}, false
	}
}

func (s *Server) handleCAP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		idText, ok := strings.CutSuffix(file, ".xml")
		if !ok {
			s.fail(w, r, signpost.Errorf(signpost.ENOTFOUND, "CAP alerts are at /cap/<notice id>.xml"))
			return
		}
		id, err := parseNoticeID(idText)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.count(channelFeed, "")
		s.serveCached(w, r, "cap:"+strconv.FormatInt(id, 10), func(ctx context.Context, snap *snapshot) (*response, error) {
			n, revs, err := s.noticeWithHistory(ctx, snap, id)
			if err != nil {
				return nil, err
			}
			// revs is newest first; the alert references the revision
			// before the current one.
			var prev *signpost.Notice
			for i := range revs {
				if revs[i].Revision < n.Revision && (prev == nil || revs[i].Revision > prev.Revision) {
					prev = &revs[i]
				}
			}
			var buf bytes.Buffer
			if err := feed.CAPAlert(&buf, s.feedSite(), n, prev, s.capArea(snap)); err != nil {
				return nil, err
			}
			return newResponse(http.StatusOK, contentTypeCAP, buf.Bytes(), snap.builtAt, s.cfg.CacheControl), nil
		})
	})
}

func (s *Server) handleRoundCalendar() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		id, ok := strings.CutSuffix(file, ".ics")
		if !ok {
			s.fail(w, r, signpost.Errorf(signpost.ENOTFOUND, "calendars are at /calendar/rounds/<round id>.ics"))
			return
		}
		s.count(channelFeed, signpost.CategoryWaste)
		s.serveCached(w, r, "ics:"+id, func(ctx context.Context, snap *snapshot) (*response, error) {
			rd := snap.roundByID[id]
			if rd == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, "We have no bin collection round %q.", truncateRunes(id, 20))
			}
			local := snap.builtAt.In(s.loc)
			today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.loc)
			var buf bytes.Buffer
			if err := feed.RoundCalendar(&buf, s.feedSite(), *rd, snap.notices, today, calendarWeeks); err != nil {
				return nil, err
			}
			return newResponse(http.StatusOK, contentTypeCalendar, buf.Bytes(), snap.builtAt, s.cfg.CacheControl), nil
		})
	})
}
