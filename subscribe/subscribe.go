// Package subscribe lets residents get notices by e-mail: they subscribe on
// the residents' site to a ward, a school, a bin round or a whole category;
// a confirmation e-mail (double opt-in) must be followed before anything is
// sent; every message carries a one-click unsubscribe link (RFC 8058).
//
// Every published notice revision (the store's notice_revisions, the
// outbox) is fanned out once: one send record per matching subscriber and
// River jobs that each send a run of them over one mail session (SMTP, or
// GOV.UK Notify's API), at a configured rate. A send is marked when the
// server accepts it, so a retried job sends only what is left; a
// retraction goes only to those who were sent the notice. Nothing is kept
// about a resident beyond the address, the topics and when each was asked
// for and confirmed, and the address is never logged.
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/store"
)

// Store is what subscriptions need from storage (*store.DB).
type Store interface {
	RequestSubscription(ctx context.Context, email string, topics []string) (store.Subscriber, error)
	ConfirmSubscription(ctx context.Context, id int64, request int) (store.Subscriber, error)
	Subscriber(ctx context.Context, id int64) (store.Subscriber, error)
	Unsubscribe(ctx context.Context, id int64) error
	RemoveSubscriptionTopic(ctx context.Context, id int64, topic string) error
	ExpireSubscriptionRequests(ctx context.Context, cutoff time.Time) (int, error)

	UnfannedRevisions(ctx context.Context, limit int) ([]store.RevisionRef, error)
	FanOut(ctx context.Context, f store.Fanout, enqueue func(tx *store.Tx, subscribers []int64) error) (int, bool, error)
	NoticeRevisions(ctx context.Context, id int64) ([]signpost.Notice, error)

	PendingSends(ctx context.Context, ref store.RevisionRef, from, to int64) ([]store.Recipient, error)
	ReceivedEarlier(ctx context.Context, ref store.RevisionRef, subscribers []int64) (map[int64]bool, error)
	MarkSent(ctx context.Context, ref store.RevisionRef, subscribers []int64) error
	DropSends(ctx context.Context, ref store.RevisionRef, subscribers []int64) error
}

// Inserter queues jobs inside a store transaction, so the jobs exist if
// and only if the fan-out commits (the job queue's InsertManyTx).
type Inserter interface {
	InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Config wires subscriptions to the rest of Signpost.
type Config struct {
	// SiteURL is the residents' site, absolute, for links in e-mails.
	SiteURL     string
	CouncilName string
	Store       Store
	Places      PlaceReader
	// Mail sends over SMTP, its From being the sender residents see,
	// or through GOV.UK Notify when built with a notify Transport.
	Mail   *email.Connector
	Signer *Signer
	// Rate caps messages per second sent by this process; 0 sends as
	// fast as the SMTP server takes them.
	Rate float64
	// ConfirmWithin is how long a confirmation link works; after it,
	// the unconfirmed request is deleted. Default 48 hours.
	ConfirmWithin time.Duration
	// ChunkSize is how many subscribers one job sends to over one SMTP
	// session; default 500.
	ChunkSize int
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service runs subscriptions.
type Service struct {
	cfg  Config
	pace *pacer

	mu  sync.Mutex
	cat *catalogue
	// catAt is when cat was read: places change rarely (imports), so it
	// is reread after a minute rather than on every request.
	catAt time.Time
}

// New checks the configuration.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Places == nil || cfg.Mail == nil || cfg.Signer == nil {
		return nil, errors.New("subscribe: Store, Places, Mail and Signer are required")
	}
	if !strings.HasPrefix(cfg.SiteURL, "https://") && !strings.HasPrefix(cfg.SiteURL, "http://") {
		return nil, fmt.Errorf("subscribe: the site's address %q must be absolute (links in e-mails need it)", cfg.SiteURL)
	}
	cfg.SiteURL = strings.TrimRight(cfg.SiteURL, "/")
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("subscribe: rate %v messages/s is negative", cfg.Rate)
	}
	if cfg.ConfirmWithin <= 0 {
		cfg.ConfirmWithin = 48 * time.Hour
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CouncilName == "" {
		cfg.CouncilName = "Your council"
	}
	return &Service{cfg: cfg, pace: newPacer(cfg.Rate)}, nil
}

func (s *Service) catalogue(ctx context.Context) (*catalogue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cat != nil && s.cfg.Now().Sub(s.catAt) < time.Minute {
		return s.cat, nil
	}
	c, err := loadCatalogue(ctx, s.cfg.Places)
	if err != nil {
		return nil, fmt.Errorf("subscribe: read places: %w", err)
	}
	s.cat, s.catAt = c, s.cfg.Now()
	return c, nil
}

// Choices lists every topic a resident can pick, grouped as the form
// shows them.
func (s *Service) Choices(ctx context.Context) ([]Choice, error) {
	c, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	return c.choices, nil
}

// Request records an unconfirmed subscription of address to topic and
// e-mails the confirmation link. It says nothing about whether the
// address was subscribed already: the page is the same either way.
func (s *Service) Request(ctx context.Context, address, topic string) error {
	addr, err := NormaliseAddress(address)
	if err != nil {
		return err
	}
	c, err := s.catalogue(ctx)
	if err != nil {
		return err
	}
	choice, ok := c.byTopic[topic]
	if !ok {
		return signpost.Errorf(signpost.EINVALID, "Choose what you want e-mail updates about")
	}
	sub, err := s.cfg.Store.RequestSubscription(ctx, addr, []string{topic})
	if err != nil {
		return err
	}
	confirm := s.cfg.SiteURL + "/subscribe/confirm/" + s.cfg.Signer.Sign(Token{Purpose: PurposeConfirm, Subscriber: sub.ID, Request: sub.Request,
		Expires: s.cfg.Now().Add(s.cfg.ConfirmWithin)}, addr)
	post := channel.Post{
		Subject:        "Confirm your e-mail updates from " + s.cfg.CouncilName,
		Parts:          []string{confirmText(s.cfg.CouncilName, choice.Label, confirm, s.cfg.ConfirmWithin)},
		Languages:      []string{"en"},
		IdempotencyKey: fmt.Sprintf("signpost-subscribe-%d-%d", sub.ID, sub.Request),
	}
	sess, err := s.cfg.Mail.Open(ctx)
	if err != nil {
		return fmt.Errorf("subscribe: send confirmation: %w", err)
	}
	if _, err := sess.Send(ctx, addr, post, s.manageURL(sub.ID, addr)); err != nil {
		sess.Close()
		if channel.Code(err) == "recipient" {
			return signpost.Errorf(signpost.EINVALID, "We could not send an e-mail to that address. Check it and try again")
		}
		return fmt.Errorf("subscribe: send confirmation: %w", err)
	}
	if err := sess.Close(); err != nil {
		s.cfg.Logger.Warn("subscribe: closing the mail session", "err", err)
	}
	s.cfg.Logger.Info("subscribe: confirmation sent", "subscriber", sub.ID, "topic", topic)
	return nil
}

func confirmText(council, label, link string, within time.Duration) string {
	return "Someone, we hope you, asked " + council + " to send e-mail updates to this address about:\n\n" +
		label + "\n\nTo start getting them, open this link and press the button to confirm:\n\n" + link +
		fmt.Sprintf("\n\nThe link works for %d hours. If you did not ask for these updates, ignore this e-mail: "+
			"nothing more will be sent, and your address will be deleted when the link expires.", int(within.Hours()))
}

// manageURL is the subscriber's link to see and stop subscriptions; it
// is also the RFC 8058 one-click unsubscribe address.
func (s *Service) manageURL(id int64, addr string) string {
	return s.cfg.SiteURL + "/unsubscribe/" + s.cfg.Signer.Sign(Token{Purpose: PurposeManage, Subscriber: id}, addr)
}

// NormaliseAddress checks an address typed into the form and returns it
// lower-cased, so one mailbox is one subscriber.
func NormaliseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := signpost.Errorf(signpost.EINVALID, "Enter an e-mail address in the correct format, like name@example.com")
	if s == "" {
		return "", signpost.Errorf(signpost.EINVALID, "Enter your e-mail address")
	}
	if len(s) > 254 {
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", bad
	}
	return strings.ToLower(s), nil
}

// Subscription is what a link shows: the confirmed and unconfirmed topics.
type Subscription struct {
	Confirmed []Choice
	Pending   []Choice
}

// subscriberFor reads the subscriber a link names and checks the link.
func (s *Service) subscriberFor(ctx context.Context, token string, purpose Purpose) (store.Subscriber, Token, error) {
	t, err := ParseToken(token)
	if err != nil {
		return store.Subscriber{}, t, err
	}
	if t.Purpose != purpose {
		return store.Subscriber{}, t, errBadToken
	}
	sub, err := s.cfg.Store.Subscriber(ctx, t.Subscriber)
	if signpost.ErrorCode(err) == signpost.ENOTFOUND {
		if purpose == PurposeConfirm {
			return sub, t, signpost.Errorf(signpost.ENOTFOUND, "This link has expired. Subscribe again to get a new one")
		}
		return sub, t, signpost.Errorf(signpost.ENOTFOUND, "You are not subscribed: there is nothing more to stop")
	}
	if err != nil {
		return sub, t, err
	}
	if err := s.cfg.Signer.Verify(t, sub.Email, purpose, s.cfg.Now()); err != nil {
		return sub, t, err
	}
	return sub, t, nil
}

// CheckConfirm checks a confirmation link without confirming, for the
// page with the button (mail scanners follow links; only a person
// presses the button).
func (s *Service) CheckConfirm(ctx context.Context, token string) (Subscription, error) {
	sub, t, err := s.subscriberFor(ctx, token, PurposeConfirm)
	if err != nil {
		return Subscription{}, err
	}
	view, err := s.view(ctx, sub, t.Request)
	if err == nil && len(view.Pending) == 0 && len(view.Confirmed) == 0 {
		err = signpost.Errorf(signpost.ENOTFOUND, "This link has expired. Subscribe again to get a new one")
	}
	return view, err
}

// Confirm confirms the request a link names and returns what the address
// now gets.
func (s *Service) Confirm(ctx context.Context, token string) (Subscription, error) {
	sub, t, err := s.subscriberFor(ctx, token, PurposeConfirm)
	if err != nil {
		return Subscription{}, err
	}
	sub, err = s.cfg.Store.ConfirmSubscription(ctx, sub.ID, t.Request)
	if err != nil {
		return Subscription{}, err
	}
	s.cfg.Logger.Info("subscribe: confirmed", "subscriber", sub.ID)
	return s.view(ctx, sub, 0)
}

// Manage returns what a manage link's subscriber gets.
func (s *Service) Manage(ctx context.Context, token string) (Subscription, error) {
	sub, _, err := s.subscriberFor(ctx, token, PurposeManage)
	if err != nil {
		return Subscription{}, err
	}
	return s.view(ctx, sub, 0)
}

// Unsubscribe stops one topic, or everything when topic is "": the
// address and its records are then deleted.
func (s *Service) Unsubscribe(ctx context.Context, token, topic string) error {
	sub, _, err := s.subscriberFor(ctx, token, PurposeManage)
	if err != nil {
		return err
	}
	if topic == "" {
		err = s.cfg.Store.Unsubscribe(ctx, sub.ID)
	} else {
		err = s.cfg.Store.RemoveSubscriptionTopic(ctx, sub.ID, topic)
	}
	if err == nil {
		s.cfg.Logger.Info("subscribe: unsubscribed", "subscriber", sub.ID, "all", topic == "")
	}
	return err
}

// view labels a subscriber's topics; with request > 0 only that request's.
func (s *Service) view(ctx context.Context, sub store.Subscriber, request int) (Subscription, error) {
	c, err := s.catalogue(ctx)
	if err != nil {
		return Subscription{}, err
	}
	var v Subscription
	for _, t := range sub.Topics {
		if request > 0 && t.Request != request {
			continue
		}
		ch, ok := c.byTopic[t.Topic]
		if !ok {
			// The place has gone since; still show it so it can be stopped.
			ch = Choice{Topic: t.Topic, Label: t.Topic}
		}
		if t.ConfirmedAt != nil {
			v.Confirmed = append(v.Confirmed, ch)
		} else {
			v.Pending = append(v.Pending, ch)
		}
	}
	return v, nil
}

// Expire deletes unconfirmed requests older than the confirmation window.
func (s *Service) Expire(ctx context.Context) (int, error) {
	return s.cfg.Store.ExpireSubscriptionRequests(ctx, s.cfg.Now().Add(-s.cfg.ConfirmWithin))
}

// Run fans out new revisions every poll and deletes expired requests every
// ten minutes, until ctx ends.
func (s *Service) Run(ctx context.Context, q Inserter, poll time.Duration) error {
	if poll <= 0 {
		poll = time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var lastExpiry time.Time
	for {
		if _, err := s.FanOutPending(ctx, q); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("subscribe: fan-out", "err", err)
		}
		if now := s.cfg.Now(); now.Sub(lastExpiry) >= 10*time.Minute {
			if n, err := s.Expire(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("subscribe: expire requests", "err", err)
			} else if n > 0 {
				s.cfg.Logger.Info("subscribe: deleted expired requests", "topics", n)
			}
			lastExpiry = now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
