package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/notify"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/subscribe"
)

// subscribeFlags are serve's settings for residents' e-mail updates; they
// go out through the same submission server as the inbox's e-mail
// (--smtp-addr, --smtp-username, --mail-from), or through GOV.UK Notify.
type subscribeFlags struct {
	on                            *bool
	caFile                        *string
	rate                          *float64
	poll                          *time.Duration
	transport                     *string
	notifyTemplate, notifyReplyTo *string
	notifyAPI                     *string
}

func addSubscribeFlags(fs *flag.FlagSet) *subscribeFlags {
	return &subscribeFlags{
		on:             fs.Bool("subscriptions", false, "offer residents e-mail updates (needs SIGNPOST_SUBSCRIPTION_KEY, and --smtp-addr and --mail-from or --subscribe-transport notify)"),
		caFile:         fs.String("smtp-ca", "", "PEM file of a certificate authority to trust for the SMTP server, besides the system's"),
		rate:           fs.Float64("subscribe-rate", 100, "most e-mail updates this process sends per second; 0 sends as fast as the SMTP server takes them"),
		poll:           fs.Duration("subscribe-poll", time.Second, "how often to look for newly published notices to e-mail to subscribers"),
		transport:      fs.String("subscribe-transport", delivery.TransportSMTP, "how e-mail updates are sent: smtp, or notify (GOV.UK Notify; API key in SIGNPOST_NOTIFY_API_KEY, needs an https --base-url)"),
		notifyTemplate: fs.String("notify-template", "", "with --subscribe-transport notify: the id of an e-mail template with the subject ((subject)) and the body ((body))"),
		notifyReplyTo:  fs.String("notify-reply-to", "", "with --subscribe-transport notify: the id of one of the service's reply-to addresses (default: the service's own)"),
		notifyAPI:      fs.String("notify-api-url", "", "with --subscribe-transport notify: Notify's API base URL (testing only)"),
	}
}

// openSubscriptions builds the e-mail update service, or returns nil when
// --subscriptions is off. The links in e-mails are signed with
// SIGNPOST_SUBSCRIPTION_KEY, which must stay the same across restarts and
// servers, or every link already sent stops working.
func openSubscriptions(env *environment, db *store.DB, logger *slog.Logger, sf *subscribeFlags, mail *inboxFlags, baseURL, council, allowNet string) (*subscribe.Service, error) {
	if !*sf.on {
		return nil, nil
	}
	switch *sf.transport {
	case delivery.TransportSMTP:
		if *mail.smtpAddr == "" || *mail.mailFrom == "" {
			return nil, signpost.Errorf(signpost.EINVALID, "--subscriptions needs --smtp-addr and --mail-from, the sender residents see")
		}
	case delivery.TransportNotify:
		if *sf.notifyTemplate == "" || env.getenv("SIGNPOST_NOTIFY_API_KEY") == "" {
			return nil, signpost.Errorf(signpost.EINVALID, "--subscribe-transport notify needs --notify-template and the API key in SIGNPOST_NOTIFY_API_KEY")
		}
		// Notify takes only https one-click unsubscribe links, so every
		// message would fail.
		if !strings.HasPrefix(baseURL, "https://") {
			return nil, signpost.Errorf(signpost.EINVALID, "--subscribe-transport notify needs an https --base-url: GOV.UK Notify takes only https unsubscribe links")
		}
	default:
		return nil, signpost.Errorf(signpost.EINVALID, "--subscribe-transport %q: want smtp or notify", *sf.transport)
	}
	raw := env.getenv("SIGNPOST_SUBSCRIPTION_KEY")
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 32 {
		return nil, signpost.Errorf(signpost.EINVALID, "--subscriptions needs SIGNPOST_SUBSCRIPTION_KEY: 32 random bytes in base64 (make one with: head -c 32 /dev/urandom | base64)")
	}
	signer, err := subscribe.NewSigner(key)
	if err != nil {
		return nil, err
	}
	allow, err := netsafe.ParseAllow(allowNet)
	if err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "--allow-net: %v", err)
	}
	// The mail server or Notify is reached like every other outside
	// service: a relay on a private network must be allowed with
	// --allow-net.
	opts := netsafe.Options{Allow: allow, Timeout: 30 * time.Second, Logger: logger}
	var mailer *email.Connector
	if *sf.transport == delivery.TransportNotify {
		mailer, err = notifyMailer(env, sf, opts)
	} else {
		mailer, err = smtpMailer(env, sf, mail, opts)
	}
	if err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "%v", err)
	}
	return subscribe.New(subscribe.Config{SiteURL: strings.TrimSuffix(baseURL, "/"), CouncilName: council, Store: db, Places: db,
		Mail: mailer, Signer: signer, Rate: *sf.rate, Logger: logger})
}

// smtpMailer is the subscriptions' sender through the submission server.
func smtpMailer(env *environment, sf *subscribeFlags, mail *inboxFlags, opts netsafe.Options) (*email.Connector, error) {
	tlsConfig := &tls.Config{}
	if *sf.caFile != "" {
		pem, err := os.ReadFile(*sf.caFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca: %v", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--smtp-ca %s: no PEM certificates in it", *sf.caFile)
		}
		tlsConfig.RootCAs = roots
	}
	return email.New(email.Config{Addr: *mail.smtpAddr, Username: *mail.smtpUser, Password: env.getenv("SIGNPOST_SMTP_PASSWORD"),
		From: *mail.mailFrom, TLS: tlsConfig,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netsafe.DialContext(ctx, opts, network, addr)
		}})
}

// notifyMailer is the subscriptions' sender through GOV.UK Notify.
func notifyMailer(env *environment, sf *subscribeFlags, opts netsafe.Options) (*email.Connector, error) {
	nc, err := notify.New(notify.Config{APIKey: env.getenv("SIGNPOST_NOTIFY_API_KEY"), TemplateID: *sf.notifyTemplate,
		ReplyToID: *sf.notifyReplyTo, API: *sf.notifyAPI, Client: netsafe.NewClient(opts)})
	if err != nil {
		return nil, err
	}
	return email.New(email.Config{Transport: nc})
}
