package manage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"time"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/store"
)

// AlertStore is what the Alerter needs of *store.DB.
type AlertStore interface {
	ClaimChannelAlerts(ctx context.Context, stale time.Duration) ([]store.ChannelAlert, error)
	MarkChannelAlerted(ctx context.Context, name string, outage int) error
	Users(ctx context.Context) ([]store.User, error)
}

// Alerter tells administrators by e-mail when a channel stops working:
// once per outage (a healthy channel becoming unhealthy), however many
// deliveries then fail, and from one server when several share the
// database. It sends through the same SMTP path as the inbox's
// duty-officer alerts.
type Alerter struct {
	Store AlertStore
	// Mailer sends the alerts; nil means the server has no SMTP settings,
	// and each outage is logged at WARN instead.
	Mailer   desk.Mailer
	BaseURL  string // for the link to the channels page
	Location *time.Location
	Logger   *slog.Logger
}

// alertRetry is how long a claimed alert waits before another attempt
// when sending failed (or its server died).
const alertRetry = time.Minute

// AlertOnce tells administrators about every outage not yet told,
// reporting how many it dealt with.
func (a *Alerter) AlertOnce(ctx context.Context) (int, error) {
	alerts, err := a.Store.ClaimChannelAlerts(ctx, alertRetry)
	if err != nil || len(alerts) == 0 {
		return 0, err
	}
	var admins []string
	if a.Mailer != nil {
		users, err := a.Store.Users(ctx)
		if err != nil {
			return 0, err
		}
		for _, u := range users {
			if u.Role == string(auth.Admin) && !u.Disabled {
				admins = append(admins, u.Email)
			}
		}
	}
	done := 0
	for _, al := range alerts {
		if a.alert(ctx, al, admins) {
			if err := a.Store.MarkChannelAlerted(ctx, al.Name, al.Outage); err != nil {
				return done, err
			}
			done++
		}
	}
	return done, nil
}

// alert sends one outage's e-mails and reports whether it is dealt with;
// a failed send is retried by a later AlertOnce once the claim expires.
// Recipients already sent to get the same Message-ID again, which mail
// systems use to drop the repeat. Addresses are never logged.
func (a *Alerter) alert(ctx context.Context, al store.ChannelAlert, admins []string) bool {
	switch {
	case a.Mailer == nil:
		a.Logger.Warn("channel unhealthy; administrators not e-mailed because no SMTP server is set (--smtp-addr)", "channel", al.Name, "type", al.Type)
		return true
	case len(admins) == 0:
		a.Logger.Warn("channel unhealthy; no enabled administrator to e-mail", "channel", al.Name, "type", al.Type)
		return true
	}
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	link := a.BaseURL + "/staff/admin/channels"
	sent := true
	for _, to := range admins {
		err := a.Mailer.Send(ctx, desk.Mail{
			To:        to,
			Subject:   fmt.Sprintf("Channel %s has stopped working", al.Name),
			MessageID: fmt.Sprintf("signpost-channel-%s-outage-%d-%x@signpost.invalid", al.Name, al.Outage, recipientHash(to)),
			Body: fmt.Sprintf("Signpost could not publish to the %s channel %q at %s, and stopped trying:\n\n  %s\n\n"+
				"Notices will not reach it until it is fixed. This usually means its access was revoked or its password changed.\n"+
				"Reconnect the account at the network, then test the channel here:\n%s\n\n"+
				"You will not be told again about this channel until it has worked once more.\n",
				al.Type, al.Name, al.Since.In(loc).Format("15:04 on 2 January 2006"), al.LastError, link),
		})
		if err != nil {
			a.Logger.Error("channel alert not sent; will retry", "channel", al.Name, "err", err)
			sent = false
		}
	}
	if sent {
		a.Logger.Info("channel unhealthy; administrators e-mailed", "channel", al.Name, "administrators", len(admins))
	}
	return sent
}

// Run alerts every interval until ctx ends.
func (a *Alerter) Run(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := a.AlertOnce(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Error("channel alerts failed; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// recipientHash tells one recipient's copy from another's in a Message-ID
// without putting the address in it.
func recipientHash(to string) []byte {
	h := sha256.Sum256([]byte(to))
	return h[:8]
}
