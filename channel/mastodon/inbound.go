package mastodon

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// Mention is a status that mentioned the account: a public or unlisted
// mention, a reply to one of the account's posts, or a direct message.
type Mention struct {
	StatusID    string
	InReplyToID string
	// Reply says the status answers one of the account's own posts.
	Reply bool
	// Visibility is public, unlisted, private or direct.
	Visibility  string
	Acct        string // user@instance, or user for local accounts
	DisplayName string
	// Text is the status's HTML content as plain text.
	Text      string
	CreatedAt time.Time
}

// MentionPage is one page of mentions, oldest first, and where the next
// page starts.
type MentionPage struct {
	Mentions []Mention
	// Cursor is the notification id to pass as since on the next call;
	// it is the since given when the page was empty.
	Cursor string
	// More says a full page came back, so there may be newer ones.
	More bool
}

// mentionPageSize is Mastodon's documented maximum for notifications (the
// default is 40); asking for the most keeps catching up after downtime to
// few calls.
const mentionPageSize = 80

type account struct {
	ID          string `json:"id"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
}

type notification struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status *struct {
		ID                 string    `json:"id"`
		CreatedAt          time.Time `json:"created_at"`
		InReplyToID        *string   `json:"in_reply_to_id"`
		InReplyToAccountID *string   `json:"in_reply_to_account_id"`
		Visibility         string    `json:"visibility"`
		Content            string    `json:"content"`
		Account            account   `json:"account"`
	} `json:"status"`
}

// Mentions reads the mention notifications newer than the notification id
// since, using min_id so that after a gap the oldest unseen page comes
// first and nothing is skipped. With since empty it reads the newest page
// only: a new channel starts from now rather than from the account's whole
// history.
func (c *Connector) Mentions(ctx context.Context, since string) (MentionPage, error) {
	self, err := c.accountID(ctx)
	if err != nil {
		return MentionPage{}, err
	}
	q := url.Values{"types[]": {"mention"}, "limit": {strconv.Itoa(mentionPageSize)}}
	if since != "" {
		q.Set("min_id", since)
	}
	var ns []notification
	h, err := c.get(ctx, "/api/v1/notifications", q, &ns)
	if err != nil {
		return MentionPage{}, fmt.Errorf("mastodon: read notifications: %w", err)
	}
	page := MentionPage{Cursor: since, More: since != "" && len(ns) >= mentionPageSize}
	// The Link header's prev link names the min_id that continues from
	// this page; taking the parameter rather than the URL keeps requests
	// on the configured server.
	if prev := linkParam(h.Get("Link"), "prev", "min_id"); prev != "" {
		page.Cursor = prev
	} else if len(ns) > 0 {
		page.Cursor = ns[0].ID // newest first
	}
	for i := len(ns) - 1; i >= 0; i-- {
		n := ns[i]
		if n.Type != "mention" || n.Status == nil {
			continue
		}
		st := n.Status
		m := Mention{StatusID: st.ID, Visibility: st.Visibility, Acct: st.Account.Acct,
			DisplayName: st.Account.DisplayName, Text: channel.TextFromHTML(st.Content), CreatedAt: st.CreatedAt}
		if st.InReplyToID != nil {
			m.InReplyToID = *st.InReplyToID
		}
		m.Reply = st.InReplyToAccountID != nil && *st.InReplyToAccountID == self
		page.Mentions = append(page.Mentions, m)
	}
	return page, nil
}

// accountID returns the id of the token's account, read once.
func (c *Connector) accountID(ctx context.Context) (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.self != "" {
		return c.self, nil
	}
	var acct account
	if err := c.call(ctx, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, "", &acct); err != nil {
		return "", fmt.Errorf("mastodon: verify credentials: %w", err)
	}
	if acct.ID == "" {
		return "", channel.Permanent("mastodon: verify_credentials returned no account")
	}
	c.self = acct.ID
	return c.self, nil
}

// linkRel matches one entry of an RFC 8288 Link header.
var linkRel = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?([^";,]+)"?`)

// linkParam returns query parameter param of the Link header's rel link.
func linkParam(header, rel, param string) string {
	for _, m := range linkRel.FindAllStringSubmatch(header, -1) {
		if m[2] != rel {
			continue
		}
		u, err := url.Parse(m[1])
		if err != nil {
			return ""
		}
		return u.Query().Get(param)
	}
	return ""
}

// Reply answers a status as a reply to it, with the same visibility and
// the author mentioned first (Mastodon delivers a direct reply only to
// the accounts it mentions). key is sent as the Idempotency-Key, so a
// retry within the hour Mastodon remembers keys returns the first reply.
// It returns the new status's id.
func (c *Connector) Reply(ctx context.Context, key, inReplyTo, text string) (string, error) {
	var orig struct {
		Visibility string  `json:"visibility"`
		Account    account `json:"account"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/statuses/"+url.PathEscape(inReplyTo), nil, "", &orig); err != nil {
		if channel.Status(err) == http.StatusNotFound {
			return "", channel.Permanent("mastodon: the message being answered was deleted")
		}
		return "", fmt.Errorf("mastodon: read the message being answered: %w", err)
	}
	mention := "@" + orig.Account.Acct
	if orig.Account.Acct != "" && !strings.Contains(text, mention) {
		text = mention + " " + text
	}
	params := statusParams{Status: text, Visibility: orig.Visibility, InReplyToID: inReplyTo}
	var st status
	if err := c.call(ctx, http.MethodPost, "/api/v1/statuses", params, key, &st); err != nil {
		return "", fmt.Errorf("mastodon: reply: %w", err)
	}
	return st.ID, nil
}

// get sends a GET with query parameters and returns the response headers.
func (c *Connector) get(ctx context.Context, path string, q url.Values, out any) (http.Header, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	var h http.Header
	err = channel.Call(headerDoer{c.cfg.Client, &h}, req, "GET "+path, out, c.classify)
	return h, err
}

// headerDoer keeps the response headers for callers that read them.
type headerDoer struct {
	channel.Doer
	h *http.Header
}

func (d headerDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.Doer.Do(req)
	if resp != nil {
		*d.h = resp.Header
	}
	return resp, err
}

// selfCache is embedded in Connector: the account id never changes for
// a token, so it is read once.
type selfCache struct {
	selfMu sync.Mutex
	self   string
}
