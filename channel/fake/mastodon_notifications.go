package fake

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type mastodonNotification struct {
	id       int
	statusID string
	at       time.Time
}

// Mention makes a resident's status that mentions the council, and the
// mention notification for it, as Mastodon does when someone writes to
// the account: visibility direct is a private message, and inReplyTo (a
// status id, or "") makes it a reply. It returns the status's id.
func (m *Mastodon) Mention(acct, displayName, text, visibility, inReplyTo string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names[acct] = displayName
	st := &MastodonStatus{ID: m.nextStatusID(), Text: text, Visibility: visibility, InReplyToID: inReplyTo, Acct: acct}
	m.statuses = append(m.statuses, st)
	m.notify(st.ID)
	return st.ID
}

// Renotify delivers another mention notification for a status already
// notified, as Mastodon does when a status is edited to mention the
// account again or a remote server redelivers it.
func (m *Mastodon) Renotify(statusID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notify(statusID)
}

func (m *Mastodon) notify(statusID string) {
	m.notifications = append(m.notifications, mastodonNotification{id: 34975000 + len(m.notifications) + 1, statusID: statusID, at: time.Now()})
}

func (m *Mastodon) nextStatusID() string {
	return strconv.Itoa(110000000000000000 + len(m.statuses) + 1)
}

// account is the Account entity of the council ("") or a resident.
func (m *Mastodon) account(acct string) map[string]string {
	if acct == "" {
		return map[string]string{"id": "1", "username": "northdale", "acct": "northdale", "display_name": "Northdale Council"}
	}
	user, _, _ := strings.Cut(acct, "@")
	id := 1000
	for _, c := range acct {
		id = id*31 + int(c)
	}
	return map[string]string{"id": strconv.Itoa(id&0xffffff + 2), "username": user, "acct": acct, "display_name": m.names[acct]}
}

var mastodonURL = regexp.MustCompile(`https?://[^\s<]+`)

// mastodonContent renders text as Mastodon's HTML content: paragraphs,
// <br /> for line breaks, and links split into the invisible scheme, the
// shown part and an ellipsis, which clients hide.
func mastodonContent(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		b.WriteString("<p>")
		esc := strings.ReplaceAll(html.EscapeString(para), "\n", "<br />")
		esc = mastodonURL.ReplaceAllStringFunc(esc, func(u string) string {
			scheme, rest, _ := strings.Cut(u, "://")
			shown, hidden := rest, ""
			if len(rest) > 30 {
				shown, hidden = rest[:30], rest[30:]
			}
			return `<a href="` + u + `" rel="nofollow noopener" target="_blank"><span class="invisible">` + scheme +
				`://</span><span class="ellipsis">` + shown + `</span><span class="invisible">` + hidden + `</span></a>`
		})
		b.WriteString(esc)
		b.WriteString("</p>")
	}
	return b.String()
}

// listNotifications serves GET /api/v1/notifications as documented:
// newest first; max_id, since_id and min_id (the page just after min_id)
// bound the ids; limit defaults to 40, at most 80; types[] and
// exclude_types[] filter; a Link header gives next (max_id) and prev
// (min_id) pages.
func (m *Mastodon) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 40
	}
	limit = min(limit, 80)
	bound := func(k string) int {
		n, _ := strconv.Atoi(q.Get(k))
		return n
	}
	maxID, sinceID, minID := bound("max_id"), bound("since_id"), bound("min_id")
	types := q["types[]"]
	excluded := q["exclude_types[]"]
	var match []mastodonNotification // oldest first
	for _, n := range m.notifications {
		if (maxID > 0 && n.id >= maxID) || n.id <= max(sinceID, minID) {
			continue
		}
		if (len(types) > 0 && !slices.Contains(types, "mention")) || slices.Contains(excluded, "mention") {
			continue
		}
		if m.find(n.statusID) == nil {
			continue // deleted statuses drop their notifications
		}
		match = append(match, n)
	}
	if minID > 0 && sinceID == 0 {
		match = match[:min(limit, len(match))] // the page adjacent to min_id
	} else {
		match = match[max(0, len(match)-limit):]
	}
	out := []map[string]any{}
	for i := len(match) - 1; i >= 0; i-- {
		n := match[i]
		st := m.find(n.statusID)
		out = append(out, map[string]any{"id": strconv.Itoa(n.id), "type": "mention", "created_at": n.at.UTC().Format(time.RFC3339Nano),
			"account": m.account(st.Acct), "status": m.entity(r, st, false)})
	}
	if len(out) > 0 {
		base := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		link := func(k, v string) string {
			u := base
			u.RawQuery = url.Values{k: {v}, "types[]": types}.Encode()
			return u.String()
		}
		w.Header().Set("Link", `<`+link("max_id", out[len(out)-1]["id"].(string))+`>; rel="next", <`+link("min_id", out[0]["id"].(string))+`>; rel="prev"`)
	}
	writeJSON(w, http.StatusOK, out)
}
