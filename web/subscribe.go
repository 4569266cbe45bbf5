package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/subscribe"
)

// Subscriptions is what the e-mail update pages need (*subscribe.Service).
type Subscriptions interface {
	Choices(ctx context.Context) ([]subscribe.Choice, error)
	Request(ctx context.Context, address, topic string) error
	CheckConfirm(ctx context.Context, token string) (subscribe.Subscription, error)
	Confirm(ctx context.Context, token string) (subscribe.Subscription, error)
	Manage(ctx context.Context, token string) (subscribe.Subscription, error)
	Unsubscribe(ctx context.Context, token, topic string) error
}

// Limits on the subscribe form, against using it to flood someone's
// mailbox with confirmation e-mails or to fill the database. They are per
// process and in memory: nothing about who asked is stored.
const (
	subscribePerClient  = 10 // requests per client address per window
	subscribePerAddress = 3  // confirmation e-mails per e-mail address per window
	subscribeWindow     = time.Hour
	// honeypotField is a field people never see (it is hidden) and bots
	// filling every input do: a form with it filled is dropped quietly.
	honeypotField = "website"
)

// subscribeView is the subscribe form's data.
type subscribeView struct {
	Groups    []choiceGroup
	Topic     string // the chosen topic
	Email     string
	CSRFToken string
	// Errors, shown in the error summary and beside their fields.
	EmailError, TopicError, Summary string
}

func (v subscribeView) HasErrors() bool {
	return v.EmailError != "" || v.TopicError != "" || v.Summary != ""
}

type choiceGroup struct {
	Label   string
	Choices []subscribe.Choice
}

// subscriptionView is the data of the confirm and manage pages.
type subscriptionView struct {
	Token        string
	Subscription subscribe.Subscription
	Done         bool // the button was pressed
	OneClick     bool // a mail client unsubscribed (RFC 8058)
	Removed      string
}

func groupChoices(choices []subscribe.Choice) []choiceGroup {
	var out []choiceGroup
	for _, c := range choices {
		if len(out) == 0 || out[len(out)-1].Label != c.Group {
			out = append(out, choiceGroup{Label: c.Group})
		}
		out[len(out)-1].Choices = append(out[len(out)-1].Choices, c)
	}
	return out
}

// subscribeTopic is the topic a place page's "Get e-mail updates" link
// offers, or "" when e-mail updates are not set up.
func (s *Server) subscribeTopic(kind, id string) string {
	if s.deps.Subscriptions == nil {
		return ""
	}
	return kind + ":" + id
}

// subscriptionsOff answers every subscription route when e-mail updates
// are not set up on this server.
func (s *Server) subscriptionsOff(w http.ResponseWriter, r *http.Request) bool {
	if s.deps.Subscriptions != nil {
		return false
	}
	s.errorPage(w, r, http.StatusNotFound, "E-mail updates are not available from this council yet.")
	return true
}

// handleSubscribeForm serves GET /subscribe: the topic comes from the
// place page's link, or the resident picks one.
func (s *Server) handleSubscribeForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.subscriptionsOff(w, r) {
			return
		}
		v := subscribeView{Topic: r.URL.Query().Get("topic")}
		s.subscribePage(w, r, http.StatusOK, v)
	})
}

func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request, status int, v subscribeView) {
	choices, err := s.deps.Subscriptions.Choices(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Groups = groupChoices(choices)
	v.CSRFToken = s.signInToken(w, r)
	s.staffPage(w, r, status, "subscribe", &page{Title: "Get e-mail updates", Canonical: "/subscribe", Error: v.HasErrors(), Data: v})
}

// handleSubscribe serves POST /subscribe. The answer is the same whether
// or not the address was subscribed already, and whether or not a limit
// stopped the e-mail, so the form tells nobody who is subscribed.
func (s *Server) handleSubscribe() http.Handler {
	cop := http.NewCrossOriginProtection()
	clients := newWindowLimiter(subscribePerClient, subscribeWindow)
	addresses := newWindowLimiter(subscribePerAddress, subscribeWindow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.subscriptionsOff(w, r) {
			return
		}
		if err := cop.Check(r); err != nil {
			s.errorPage(w, r, http.StatusForbidden, "This request came from another site and was refused.")
			return
		}
		v := subscribeView{Email: strings.TrimSpace(r.PostFormValue("email")), Topic: r.PostFormValue("topic")}
		if !s.checkSignInToken(r) {
			v.Summary = "The form had expired. Check your choices and send it again."
			s.subscribePage(w, r, http.StatusForbidden, v)
			return
		}
		if r.PostFormValue(honeypotField) != "" {
			http.Redirect(w, r, "/subscribe/check-email", http.StatusSeeOther)
			return
		}
		addr, err := subscribe.NormaliseAddress(v.Email)
		if err != nil {
			v.EmailError = signpost.ErrorMessage(err)
		}
		if v.Topic == "" {
			v.TopicError = "Choose what you want e-mail updates about"
		}
		if v.HasErrors() {
			s.subscribePage(w, r, http.StatusBadRequest, v)
			return
		}
		now := s.now()
		if !clients.allow(clientKey(r), now) {
			s.errorPage(w, r, http.StatusTooManyRequests, "There have been too many requests from your connection. Try again in an hour.")
			return
		}
		if addresses.allow(addressKey(addr), now) {
			err := s.deps.Subscriptions.Request(r.Context(), addr, v.Topic)
			switch code := signpost.ErrorCode(err); {
			case err == nil:
			case code == signpost.EINVALID:
				if strings.Contains(signpost.ErrorMessage(err), "Choose") {
					v.TopicError = signpost.ErrorMessage(err)
				} else {
					v.EmailError = signpost.ErrorMessage(err)
				}
				s.subscribePage(w, r, http.StatusBadRequest, v)
				return
			default:
				s.log.Error("subscribe: request failed", "err", err)
				s.errorPage(w, r, http.StatusServiceUnavailable, "We could not send the confirmation e-mail just now. Try again in a few minutes.")
				return
			}
		}
		http.Redirect(w, r, "/subscribe/check-email", http.StatusSeeOther)
	})
}

// handleSubscribeSent serves GET /subscribe/check-email.
func (s *Server) handleSubscribeSent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.subscriptionsOff(w, r) {
			return
		}
		s.staffPage(w, r, http.StatusOK, "subscribe_sent", &page{Title: "Check your e-mail", Canonical: "/subscribe/check-email"})
	})
}

// handleConfirm serves GET and POST /subscribe/confirm/{token}. GET only
// shows a button: mail scanners open links, and only a person should
// confirm. The token, signed for the address, is what protects the POST.
func (s *Server) handleConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.subscriptionsOff(w, r) {
			return
		}
		v := subscriptionView{Token: r.PathValue("token")}
		var err error
		if r.Method == http.MethodPost {
			v.Subscription, err = s.deps.Subscriptions.Confirm(r.Context(), v.Token)
			v.Done = true
		} else {
			v.Subscription, err = s.deps.Subscriptions.CheckConfirm(r.Context(), v.Token)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		title := "Confirm your e-mail updates"
		if v.Done {
			title = "You are subscribed"
		}
		s.staffPage(w, r, http.StatusOK, "subscribe_confirm", &page{Title: title, Data: v})
	})
}

// handleManage serves GET /unsubscribe/{token}: what the address gets,
// with buttons to stop one topic or everything.
func (s *Server) handleManage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.subscriptionsOff(w, r) {
			return
		}
		v := subscriptionView{Token: r.PathValue("token")}
		sub, err := s.deps.Subscriptions.Manage(r.Context(), v.Token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Subscription = sub
		s.staffPage(w, r, http.StatusOK, "unsubscribe", &page{Title: "Your e-mail updates", Data: v})
	})
}

// handleUnsubscribe serves POST /unsubscribe/{token}: the RFC 8058
// one-click unsubscribe that mail clients send (body
// List-Unsubscribe=One-Click, no cookies, no CSRF token: the signed token
// in the address is the protection) and the manage page's buttons.
func (s *Server) handleUnsubscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.subscriptionsOff(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		v := subscriptionView{Token: r.PathValue("token"), OneClick: r.PostFormValue("List-Unsubscribe") == "One-Click"}
		topic := r.PostFormValue("topic")
		if v.OneClick {
			topic = ""
		}
		err := s.deps.Subscriptions.Unsubscribe(r.Context(), v.Token, topic)
		if signpost.ErrorCode(err) == signpost.ENOTFOUND {
			// Unsubscribed already: the result the resident wanted.
			err = nil
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if topic != "" {
			v.Removed = topic
			if sub, err := s.deps.Subscriptions.Manage(r.Context(), v.Token); err == nil {
				v.Subscription = sub
				s.staffPage(w, r, http.StatusOK, "unsubscribe", &page{Title: "Your e-mail updates", Data: v})
				return
			}
		}
		v.Done = true
		s.staffPage(w, r, http.StatusOK, "unsubscribe", &page{Title: "You have unsubscribed", Data: v})
	})
}

// clientKey is the limiter's key for the connection a request came from.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host
}

// addressKey hashes an address so the limiter never holds it in clear.
func addressKey(addr string) string {
	sum := sha256.Sum256([]byte("subscribe\x00" + addr))
	return hex.EncodeToString(sum[:16])
}

// windowLimiter allows n events per key in any window; keys whose events
// are all older than the window are forgotten.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	events map[string][]time.Time
	swept  time.Time
}

func newWindowLimiter(n int, window time.Duration) *windowLimiter {
	return &windowLimiter{n: n, window: window, events: map[string][]time.Time{}}
}

func (l *windowLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.window {
		for k, ev := range l.events {
			if len(ev) == 0 || now.Sub(ev[len(ev)-1]) > l.window {
				delete(l.events, k)
			}
		}
		l.swept = now
	}
	ev := l.events[key]
	for len(ev) > 0 && now.Sub(ev[0]) > l.window {
		ev = ev[1:]
	}
	if len(ev) >= l.n {
		l.events[key] = ev
		return false
	}
	l.events[key] = append(ev, now)
	return true
}
