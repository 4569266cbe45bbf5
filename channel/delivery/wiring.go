package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/facebook"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/channel/notify"
	"github.com/signpost-uk/signpost/channel/render"
	"github.com/signpost-uk/signpost/channel/webhook"
	"github.com/signpost-uk/signpost/channel/x"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/store"
)

// ChannelConfig is the non-secret configuration of every channel type, as
// kept in store.Channel.Config; each type uses its own fields.
type ChannelConfig struct {
	Server     string `json:"server,omitempty"`     // mastodon
	Visibility string `json:"visibility,omitempty"` // mastodon
	Service    string `json:"service,omitempty"`    // bluesky PDS
	Identifier string `json:"identifier,omitempty"` // bluesky handle
	PageID     string `json:"page_id,omitempty"`    // facebook
	Graph      string `json:"graph,omitempty"`      // facebook API base, for tests
	API        string `json:"api,omitempty"`        // x API base, for tests
	SMTP       string `json:"smtp,omitempty"`       // email host:port
	Username   string `json:"username,omitempty"`   // email
	From       string `json:"from,omitempty"`       // email
	SiteURL    string `json:"site_url,omitempty"`   // email: residents' site, for unsubscribe links
	IMAP       string `json:"imap,omitempty"`       // email: host:port of the monitored mailbox residents write to
	Mailbox    string `json:"mailbox,omitempty"`    // email: its folder (default INBOX)
	// Transport is how an e-mail channel sends: TransportSMTP (the
	// default, "") or TransportNotify, whose credentials are the API key.
	Transport      string `json:"transport,omitempty"`
	NotifyTemplate string `json:"notify_template,omitempty"` // email through Notify: the template's id
	NotifyReplyTo  string `json:"notify_reply_to,omitempty"` // email through Notify: a reply-to address's id; "" for the service's default
	NotifyAPI      string `json:"notify_api,omitempty"`      // email through Notify: API base, for tests
	URL            string `json:"url,omitempty"`             // webhook
	// Categories are the notice categories this channel publishes by
	// default: a notice with no channels chosen goes to every channel
	// listing its category (store.DB.DefaultChannels).
	Categories []signpost.Category `json:"categories,omitempty"`
}

// The ways an e-mail channel can send.
const (
	TransportSMTP   = "smtp"
	TransportNotify = "notify"
)

// Check names the first setting a channel type needs and lacks.
func (c ChannelConfig) Check(typ channel.Type) error {
	need := map[channel.Type][][2]string{
		channel.Mastodon: {{"server", c.Server}},
		channel.Bluesky:  {{"identifier", c.Identifier}},
		channel.Facebook: {{"page-id", c.PageID}},
		channel.Email:    {{"smtp", c.SMTP}, {"from", c.From}, {"site-url", c.SiteURL}},
		channel.Webhook:  {{"url", c.URL}},
	}
	if typ == channel.Email {
		switch c.Transport {
		case "", TransportSMTP:
		case TransportNotify:
			need[typ] = [][2]string{{"notify-template", c.NotifyTemplate}, {"site-url", c.SiteURL}}
			// Notify refuses a one-click unsubscribe link that is not
			// https, so every message would fail.
			if c.SiteURL != "" && !strings.HasPrefix(c.SiteURL, "https://") {
				return signpost.Errorf(signpost.EINVALID, "an e-mail channel through GOV.UK Notify needs an https --site-url: Notify accepts only https unsubscribe links")
			}
			if c.IMAP != "" {
				return signpost.Errorf(signpost.EINVALID, "--imap needs the SMTP transport: replies to residents go out through the mailbox's own server")
			}
		default:
			return signpost.Errorf(signpost.EINVALID, "--transport %q: want smtp or notify", c.Transport)
		}
	}
	for _, f := range need[typ] {
		if f[1] == "" {
			return signpost.Errorf(signpost.EINVALID, "a %s channel needs --%s", typ, f[0])
		}
	}
	for _, c := range c.Categories {
		if !c.Valid() {
			return signpost.Errorf(signpost.EINVALID, "category %q is not one of schools, roads, waste, transport, libraries, leisure, health, other", c)
		}
	}
	return nil
}

// Net is how connectors reach the network: production passes netsafe's
// client and dialer.
type Net struct {
	Client *http.Client
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	// Subscribers returns an e-mail channel's list; nil sends to nobody.
	Subscribers func(channel string) []string
}

// SafeNet is how production reaches the networks: every HTTP call and
// SMTP or IMAP connection goes through netsafe with o's allowlist.
func SafeNet(o netsafe.Options) Net {
	return Net{
		Client: netsafe.NewClient(o),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netsafe.DialContext(ctx, o, network, addr)
		},
	}
}

// Build wires the connector for one channel.
func Build(name string, typ channel.Type, cfg ChannelConfig, token string, n Net) (channel.Connector, error) {
	switch typ {
	case channel.Mastodon:
		return mastodon.New(mastodon.Config{Server: cfg.Server, Token: token, Visibility: cfg.Visibility, Client: n.Client})
	case channel.Bluesky:
		return bluesky.New(bluesky.Config{Service: cfg.Service, Identifier: cfg.Identifier, AppPassword: token, Client: n.Client})
	case channel.Facebook:
		return facebook.New(facebook.Config{PageID: cfg.PageID, Token: token, Graph: cfg.Graph, Client: n.Client})
	case channel.X:
		return x.New(x.Config{API: cfg.API, Token: token, Client: n.Client})
	case channel.Email:
		site := strings.TrimRight(cfg.SiteURL, "/")
		var subs []string
		if n.Subscribers != nil {
			subs = n.Subscribers(name)
		}
		// Subscriptions will supply per-address signed links; until
		// then the link goes to where residents manage them.
		unsubscribe := func(string) string { return site + "/subscriptions" }
		if cfg.Transport == TransportNotify {
			nc, err := notify.New(notify.Config{APIKey: token, TemplateID: cfg.NotifyTemplate, ReplyToID: cfg.NotifyReplyTo, API: cfg.NotifyAPI, Client: n.Client})
			if err != nil {
				return nil, err
			}
			return email.New(email.Config{Transport: nc, Subscribers: subs, Unsubscribe: unsubscribe})
		}
		var inbox *email.MailboxConfig
		if cfg.IMAP != "" {
			// The monitored mailbox is the same account as the SMTP
			// sender, as with every mail provider's own client.
			inbox = &email.MailboxConfig{Addr: cfg.IMAP, Username: cfg.Username, Password: token, Mailbox: cfg.Mailbox, Dial: n.Dial}
		}
		return email.New(email.Config{Addr: cfg.SMTP, Username: cfg.Username, Password: token, From: cfg.From, Subscribers: subs, Inbox: inbox,
			Unsubscribe: unsubscribe, Dial: n.Dial})
	case channel.Webhook:
		return webhook.New(webhook.Config{URL: cfg.URL, Secret: []byte(token), Client: n.Client})
	}
	return nil, fmt.Errorf("unknown channel type %q", typ)
}

// ChannelReader reads stored channels.
type ChannelReader interface {
	Channel(ctx context.Context, name string) (store.Channel, error)
}

// Opener opens sealed credentials; *secret.Keyring is one.
type Opener interface {
	Open(sealed string, context []byte) ([]byte, error)
}

// Connectors builds connectors from stored channels and keeps each while
// its configuration and credentials are unchanged, so a Bluesky session
// is reused across jobs instead of logging in for every post.
type Connectors struct {
	channels ChannelReader
	keys     Opener
	net      Net

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	version [32]byte
	conn    channel.Connector
}

// NewConnectors returns a connector source for Config.Connector.
func NewConnectors(channels ChannelReader, keys Opener, n Net) *Connectors {
	return &Connectors{channels: channels, keys: keys, net: n, cache: map[string]cached{}}
}

// Get returns the connector of a named channel.
func (cs *Connectors) Get(ctx context.Context, name string) (channel.Connector, error) {
	c, err := cs.channels.Channel(ctx, name)
	if err != nil {
		return nil, err
	}
	version := sha256.Sum256([]byte(c.Type + "\x00" + string(c.Config) + "\x00" + c.Credentials))
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if hit, ok := cs.cache[name]; ok && hit.version == version {
		return hit.conn, nil
	}
	var cfg ChannelConfig
	if err := json.Unmarshal(c.Config, &cfg); err != nil {
		return nil, fmt.Errorf("channel %s: configuration: %w", name, err)
	}
	token := ""
	if c.Credentials != "" {
		b, err := cs.keys.Open(c.Credentials, []byte(c.Name))
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", name, err)
		}
		token = string(b)
	}
	conn, err := Build(name, channel.Type(c.Type), cfg, token, cs.net)
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", name, err)
	}
	cs.cache[name] = cached{version: version, conn: conn}
	return conn, nil
}

// NoticeReader reads notice revisions.
type NoticeReader interface {
	NoticeRevisions(ctx context.Context, id int64) ([]signpost.Notice, error)
}

// RenderConfig says how notices become posts.
type RenderConfig struct {
	// Link is the notice's page on the residents' site.
	Link func(n signpost.Notice) string
	// Options returns rendering options for a channel type; the default
	// is the network's limit, threads, no hashtags.
	Options func(typ channel.Type) render.Options
	// Welsh returns a notice's Welsh text, or nil.
	Welsh func(n signpost.Notice) *render.Text
}

// Renderer returns a Config.Render that renders the exact revision a job
// names, so a retried job posts what was approved then, not what the
// notice says now.
func Renderer(notices NoticeReader, channels ChannelReader, rc RenderConfig) func(ctx context.Context, id int64, revision int, channelName string) (channel.Post, error) {
	return func(ctx context.Context, id int64, revision int, channelName string) (channel.Post, error) {
		revs, err := notices.NoticeRevisions(ctx, id)
		if err != nil {
			return channel.Post{}, err
		}
		var n *signpost.Notice
		for i := range revs {
			if revs[i].Revision == revision {
				n = &revs[i]
			}
		}
		if n == nil {
			return channel.Post{}, signpost.Errorf(signpost.ENOTFOUND, "notice %d has no revision %d", id, revision)
		}
		c, err := channels.Channel(ctx, channelName)
		if err != nil {
			return channel.Post{}, err
		}
		typ := channel.Type(c.Type)
		opts := render.Options{Limit: render.LimitFor(typ)}
		if rc.Options != nil {
			opts = rc.Options(typ)
		}
		link := ""
		if rc.Link != nil {
			link = rc.Link(*n)
		}
		var welsh *render.Text
		if rc.Welsh != nil {
			welsh = rc.Welsh(*n)
		}
		in := render.FromNotice(*n, link, welsh)
		switch {
		case n.ClosedAt != nil:
			// Closing posts the "resumed" message under the original.
			in.English = render.Text{Headline: "Resumed: " + n.Headline, Body: "This disruption is over and the service is running normally."}
			if welsh != nil {
				in.Welsh = &render.Text{Headline: "Wedi ailddechrau: " + welsh.Headline, Body: "Mae'r tarfu hwn ar ben ac mae'r gwasanaeth yn rhedeg fel arfer."}
			}
		case n.Revision > 1 && !Edits(typ):
			// Where posts cannot be edited the update is a reply under
			// the original; say so.
			in.English.Headline = "Update: " + in.English.Headline
		}
		post, err := render.Render(in, opts)
		if err != nil {
			return channel.Post{}, err
		}
		post.CreatedAt = n.UpdatedAt
		if typ == channel.Webhook {
			post.Payload = payload(*n, link)
		}
		return post, nil
	}
}

// Edits reports whether a channel type changes an earlier post in place
// on update; the others reply under it (Bluesky, X) or send anew.
func Edits(typ channel.Type) bool {
	return typ == channel.Mastodon || typ == channel.Facebook || typ == channel.Webhook
}

// payload is the notice as webhook receivers get it.
func payload(n signpost.Notice, link string) map[string]any {
	places := make([]string, len(n.Places))
	for i, p := range n.Places {
		places[i] = p.String()
	}
	return map[string]any{"id": n.ID, "revision": n.Revision, "category": n.Category, "status": n.Status,
		"places": places, "headline": n.Headline, "body": n.Body, "starts": n.Starts, "ends": n.Ends,
		"published_at": n.PublishedAt, "updated_at": n.UpdatedAt, "closed_at": n.ClosedAt, "link": link}
}
