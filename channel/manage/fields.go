package manage

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
)

// Kind says how a setting is checked.
type Kind string

// The kinds of setting.
const (
	Text     Kind = "text"
	URL      Kind = "url"       // an http(s) address the connector calls
	Link     Kind = "link"      // an http(s) address put in messages, never called
	HostPort Kind = "host-port" // a mail server the connector dials
	Address  Kind = "address"   // an e-mail address, with or without a name
)

// Field is one thing an administrator types to set up a channel: a
// non-secret setting kept in delivery.ChannelConfig under Name, or the
// credential (Name "token"), which is sealed and never shown again.
type Field struct {
	Name     string
	Label    string
	Hint     string
	Kind     Kind
	Required bool
}

// TokenField is the name of the credential field.
const TokenField = "token"

// NotifyAPI is a setting for tests only, never on the form: another
// address for GOV.UK Notify's API.
const NotifyAPI = "notify_api"

// Flag names the field's `signpost channel add` flag.
func (f Field) Flag() string {
	if f.Name == TokenField {
		return "token-env"
	}
	return strings.ReplaceAll(f.Name, "_", "-")
}

// settings are each type's non-secret fields, in form order.
var settings = map[channel.Type][]Field{
	channel.Mastodon: {
		{Name: "server", Label: "Mastodon server", Hint: "The address of the council's Mastodon server, for example https://mastodon.social", Kind: URL, Required: true},
		{Name: "visibility", Label: "Visibility (optional)", Hint: "public (the default) or unlisted", Kind: Text},
	},
	channel.Bluesky: {
		{Name: "identifier", Label: "Handle", Hint: "The account's handle, for example northdale.gov.uk", Kind: Text, Required: true},
		{Name: "service", Label: "Server (optional)", Hint: "The account's server, if not https://bsky.social", Kind: URL},
	},
	channel.Facebook: {
		{Name: "page_id", Label: "Page ID", Hint: "The number in the Page's About section", Kind: Text, Required: true},
	},
	channel.X: {},
	channel.Email: {
		{Name: "site_url", Label: "Residents' site address", Hint: "For the links in every e-mail, for example https://disruptions.northdale.gov.uk", Kind: Link, Required: true},
		{Name: "transport", Label: "Sent by (optional)", Hint: "smtp (the default: the council's mail server) or notify (GOV.UK Notify)", Kind: Text},
		{Name: "smtp", Label: "Mail server", Hint: "SMTP only: the submission server as host:port, for example smtp.northdale.gov.uk:587", Kind: HostPort},
		{Name: "from", Label: "Sender", Hint: `SMTP only: for example "Northdale Council <alerts@northdale.gov.uk>"`, Kind: Address},
		{Name: "username", Label: "User name (optional)", Hint: "SMTP only: for the mail server, if it asks for one", Kind: Text},
		{Name: "imap", Label: "Mailbox server (optional)", Hint: "SMTP only: host:port of the IMAP server of the mailbox residents write to, to read it into the inbox", Kind: HostPort},
		{Name: "mailbox", Label: "Mailbox folder (optional)", Hint: "SMTP only: INBOX if left empty", Kind: Text},
		{Name: "notify_template", Label: "Notify template ID", Hint: "GOV.UK Notify only: the id of an e-mail template whose subject is ((subject)) and body ((body))", Kind: Text},
		{Name: "notify_reply_to", Label: "Notify reply-to ID (optional)", Hint: "GOV.UK Notify only: the id of one of the service's reply-to addresses", Kind: Text},
	},
	channel.Webhook: {
		{Name: "url", Label: "Receiver's address", Hint: "The https address Signpost posts each notice to", Kind: URL, Required: true},
	},
}

// tokens describe each type's credential.
var tokens = map[channel.Type]Field{
	channel.Mastodon: {Label: "Access token", Hint: "From the server's Preferences, Development, with the write:statuses and read:notifications scopes"},
	channel.Bluesky:  {Label: "App password", Hint: "Made in Bluesky's Settings, Privacy and security, App passwords; not the account's password"},
	channel.Facebook: {Label: "Page access token", Hint: "A long-lived token for the Page"},
	channel.X:        {Label: "Access token", Hint: "An OAuth 2.0 user access token with tweet.write"},
	channel.Email:    {Label: "Password or API key", Hint: "For the mail server (and the mailbox, which uses the same account), or GOV.UK Notify's API key"},
	channel.Webhook:  {Label: "Signing secret (optional)", Hint: "At least 16 characters, shared with the receiver; leave empty and Signpost makes one and shows it once"},
}

// Fields lists what an administrator types for a channel of type typ:
// its settings, then its credential.
func Fields(typ channel.Type) []Field {
	tok := tokens[typ]
	tok.Name, tok.Kind, tok.Required = TokenField, Text, typ != channel.Webhook
	return append(append([]Field(nil), settings[typ]...), tok)
}

// SecretFields lists a type's fields that are sealed and never shown:
// those a credential replacement asks for.
func SecretFields(typ channel.Type) []Field {
	var out []Field
	for _, f := range Fields(typ) {
		if f.Secret() {
			out = append(out, f)
		}
	}
	return out
}

// Secret says the field is a credential.
func (f Field) Secret() bool { return f.Name == TokenField }

// setting is where a field's value lives in a channel's configuration.
func setting(cfg *delivery.ChannelConfig, name string) *string {
	switch name {
	case "server":
		return &cfg.Server
	case "visibility":
		return &cfg.Visibility
	case "service":
		return &cfg.Service
	case "identifier":
		return &cfg.Identifier
	case "page_id":
		return &cfg.PageID
	case "smtp":
		return &cfg.SMTP
	case "username":
		return &cfg.Username
	case "from":
		return &cfg.From
	case "site_url":
		return &cfg.SiteURL
	case "imap":
		return &cfg.IMAP
	case "mailbox":
		return &cfg.Mailbox
	case "url":
		return &cfg.URL
	case "transport":
		return &cfg.Transport
	case "notify_template":
		return &cfg.NotifyTemplate
	case "notify_reply_to":
		return &cfg.NotifyReplyTo
	case NotifyAPI:
		return &cfg.NotifyAPI
	}
	return nil
}

// noun is how messages name the field.
func (f Field) noun() string {
	switch f.Name {
	case "server", "page_id", "notify_template", "notify_reply_to":
		return strings.TrimSuffix(f.Label, " (optional)") // proper nouns
	}
	return strings.ToLower(strings.TrimSuffix(f.Label, " (optional)"))
}

// problem says what is wrong with one setting's value, or "".
func (f Field) problem(v string) string {
	if v == "" {
		if f.Required {
			return "Enter the " + f.noun()
		}
		return ""
	}
	switch f.Kind {
	case URL, Link:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return "Enter the " + f.noun() + " as an http(s) address without a user name, like https://example.org"
		}
	case HostPort:
		if host, port, err := net.SplitHostPort(v); err != nil || host == "" || port == "" {
			return "Enter the " + f.noun() + " as host:port, like mail.example.org:587"
		}
	case Address:
		if _, err := mail.ParseAddress(v); err != nil {
			return "Enter the " + f.noun() + " as an e-mail address, like Northdale Council <alerts@northdale.gov.uk>"
		}
	}
	if f.Name == "visibility" && v != "public" && v != "unlisted" {
		return "Enter public or unlisted as the visibility, or leave it empty"
	}
	if f.Name == "transport" && v != delivery.TransportSMTP && v != delivery.TransportNotify {
		return fmt.Sprintf("%q is not a way to send: enter smtp or notify, or leave it empty for smtp", v)
	}
	return ""
}

// target is the host a setting makes Signpost connect to, or "".
func (f Field) target(v string) string {
	switch f.Kind {
	case URL:
		if u, err := url.Parse(v); err == nil {
			return u.Hostname()
		}
	case HostPort:
		if host, _, err := net.SplitHostPort(v); err == nil {
			return host
		}
	}
	return ""
}
