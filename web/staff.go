package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
)

// StaffAuth is what the staff pages need of auth.Service: signing in and
// out, and finding the user behind a session cookie.
type StaffAuth interface {
	SignIn(ctx context.Context, email, password, clientKey string) (auth.Session, error)
	Authenticate(ctx context.Context, token string) (auth.User, auth.Session, error)
	SignOut(ctx context.Context, token string) error
}

const (
	signInPath = "/staff/sign-in"
	// signInCSRFCookie carries the sign-in form's double-submit token.
	signInCSRFCookie = "signpost_signin"
	// signInTokenTTL is how long a sign-in form stays usable.
	signInTokenTTL = 2 * time.Hour
)

// staffView is the signed-in member of staff, as every staff page shows
// them, with the token their forms must carry.
type staffView struct {
	Name, Email, Role string
	CSRFToken         string
}

// secureCookies reports whether cookies must be Secure (and so take the
// __Host- prefix): when the request came over TLS, or when the site's
// public address is https (TLS ended at a proxy). The plain-http demo on
// 127.0.0.1 gets ordinary cookies so that it still works.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.BaseURL, "https://")
}

// withSession puts the signed-in user, if any, in the request's context,
// using auth's cookie and session rules.
func (s *Server) withSession(next http.Handler) http.Handler {
	if s.deps.Auth == nil {
		return next
	}
	secure := auth.LoadSession(s.deps.Auth, true)(next)
	plain := auth.LoadSession(s.deps.Auth, false)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.secureCookies(r) {
			secure.ServeHTTP(w, r)
		} else {
			plain.ServeHTTP(w, r)
		}
	})
}

// staffOnly guards a staff route: nobody signed in is sent to the sign-in
// page (the API answers 401), too low a role is refused with 403, and every
// unsafe request must carry the session's CSRF token. Staff responses are
// never stored by browsers or proxies.
func (s *Server) staffOnly(min auth.Role, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	guard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u, sess, ok := auth.FromContext(r.Context())
		switch {
		case !ok && isAPI(r):
			writeJSONError(w, http.StatusUnauthorized, signpost.EUNAUTHORIZED, "Sign in to use this.")
			return
		case !ok:
			back := r.URL.Path
			if r.Method == http.MethodGet && r.URL.RawQuery != "" {
				back += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, signInPath+"?next="+url.QueryEscape(back), http.StatusSeeOther)
			return
		case !u.Role.AtLeast(min):
			s.errorPage(w, r, http.StatusForbidden, "Your role ("+string(u.Role)+") does not allow this. Ask an administrator if you need it.")
			return
		}
		if unsafeMethod(r.Method) {
			if err := cop.Check(r); err != nil {
				s.errorPage(w, r, http.StatusForbidden, "This request came from another site and was refused.")
				return
			}
			token := r.Header.Get(auth.CSRFHeader)
			if token == "" {
				token = r.PostFormValue(auth.CSRFField)
			}
			if !auth.CheckCSRF(sess, token) {
				s.errorPage(w, r, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
	return s.withSession(guard)
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// staffFrom returns the signed-in member of staff for the page header.
func staffFrom(r *http.Request) *staffView {
	u, sess, ok := auth.FromContext(r.Context())
	if !ok {
		return nil
	}
	return &staffView{Name: u.Name, Email: u.Email, Role: string(u.Role), CSRFToken: sess.CSRFToken}
}

// staffPage writes a staff page: rendered per request (it shows who is
// signed in) and never cached.
func (s *Server) staffPage(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) {
	pg.Now = s.now()
	if pg.Staff != nil {
		pg.PreElection = s.preElectionNow(r.Context())
		pg.UnhealthyChannels = s.unhealthyChannels(r)
		pg.AdminChannels = pg.Staff.Role == string(auth.Admin)
	}
	body, err := s.pages.render(name, pg)
	if err != nil {
		s.log.Error("render staff page", "page", name, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "")
		return
	}
	writeUncached(w, r, status, body)
}

// safeNext keeps a post-sign-in redirect on this site: only a path that
// starts with one slash (not "//" or "/\", which browsers read as another
// host) and holds no control characters; anything else goes to /staff.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/staff"
	}
	for _, c := range next {
		if unicode.IsControl(c) || c == '\\' {
			return "/staff"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/staff"
	}
	return next
}

// signInView is the sign-in form's data.
type signInView struct {
	Email     string
	Next      string
	CSRFToken string
	SignedOut bool
	SSO       bool // offer "Sign in with your organisation account"
	// Errors, shown in the error summary and beside their fields.
	Summary       string // a problem with the whole form
	EmailError    string
	PasswordError string
}

func (v signInView) HasErrors() bool {
	return v.Summary != "" || v.EmailError != "" || v.PasswordError != ""
}

// The sign-in form has no session to hold a CSRF token, so it uses a signed
// double-submit token: a random value with its issue time, MACed with a key
// only this Server holds, sent both in an HttpOnly SameSite=Strict cookie
// and in the form. A cross-site page can neither read the cookie nor forge
// a token whose MAC verifies; a restart changes the key and merely asks
// people to submit the form again.

func (s *Server) newSignInToken() string {
	payload := strconv.FormatInt(s.now().Unix(), 10) + "." + rand.Text()
	return payload + "." + s.signInMAC(payload)
}

func (s *Server) signInMAC(payload string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("signpost sign-in form\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validSignInToken checks a token's MAC and age.
func (s *Server) validSignInToken(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || len(tok) > 200 {
		return false
	}
	payload, mac := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.signInMAC(payload))) {
		return false
	}
	ts, _, _ := strings.Cut(payload, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := s.now().Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= signInTokenTTL
}

func signInCookieName(secure bool) string {
	if secure {
		return "__Host-" + signInCSRFCookie
	}
	return signInCSRFCookie
}

// signInToken returns the form token for this browser, reusing a valid one
// from its cookie (so two open tabs both work) or setting a new one.
func (s *Server) signInToken(w http.ResponseWriter, r *http.Request) string {
	secure := s.secureCookies(r)
	if c, err := r.Cookie(signInCookieName(secure)); err == nil && s.validSignInToken(c.Value) {
		return c.Value
	}
	tok := s.newSignInToken()
	http.SetCookie(w, &http.Cookie{
		Name: signInCookieName(secure), Value: tok, Path: "/", MaxAge: int(signInTokenTTL / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
	return tok
}

// checkSignInToken reports whether the form's token matches a valid cookie.
func (s *Server) checkSignInToken(r *http.Request) bool {
	c, err := r.Cookie(signInCookieName(s.secureCookies(r)))
	form := r.PostFormValue(auth.CSRFField)
	if err != nil || form == "" || !s.validSignInToken(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// handleSignInForm serves GET /staff/sign-in.
func (s *Server) handleSignInForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v := signInView{Next: safeNext(q.Get("next")), SignedOut: q.Has("signed-out"), SSO: s.deps.SSO != nil}
		v.CSRFToken = s.signInToken(w, r)
		s.staffPage(w, r, http.StatusOK, "staff_sign_in", &page{Title: "Sign in", Data: v})
	})
}

// handleSignIn serves POST /staff/sign-in. The messages never say whether
// an address has an account; neither address nor password is logged.
func (s *Server) handleSignIn() http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := cop.Check(r); err != nil {
			s.errorPage(w, r, http.StatusForbidden, "This request came from another site and was refused.")
			return
		}
		v := signInView{Email: strings.TrimSpace(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next")), SSO: s.deps.SSO != nil}
		password := r.PostFormValue("password")
		show := func(status int) {
			v.CSRFToken = s.signInToken(w, r)
			s.staffPage(w, r, status, "staff_sign_in", &page{Title: "Sign in", Error: true, Data: v})
		}
		if !s.checkSignInToken(r) {
			v.Summary = "The sign-in form had expired. Enter your e-mail address and password again."
			show(http.StatusForbidden)
			return
		}
		if v.Email == "" {
			v.EmailError = "Enter your e-mail address"
		}
		if password == "" {
			v.PasswordError = "Enter your password"
		}
		if v.HasErrors() {
			show(http.StatusBadRequest)
			return
		}
		if s.deps.Auth == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Staff sign-in is not set up on this server.")
			return
		}
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		sess, err := s.deps.Auth.SignIn(r.Context(), v.Email, password, client)
		switch code := signpost.ErrorCode(err); code {
		case "":
		case signpost.EUNAUTHORIZED, signpost.EINVALID:
			v.Summary = "The e-mail address or password is wrong"
			show(http.StatusUnauthorized)
			return
		case signpost.ERATELIMITED, signpost.EFORBIDDEN:
			// The lock-out and disabled-account messages are written for
			// people (and say the same for every address).
			v.Summary = signpost.ErrorMessage(err)
			show(httpStatus(code))
			return
		default:
			s.fail(w, r, err)
			return
		}
		secure := s.secureCookies(r)
		if old, err := r.Cookie(auth.SessionCookieName(secure)); err == nil {
			// A new session replaces any old one in this browser.
			if err := s.deps.Auth.SignOut(r.Context(), old.Value); err != nil {
				s.log.Warn("end previous session at sign-in", "err", err)
			}
		}
		http.SetCookie(w, auth.SessionCookie(sess, secure))
		http.Redirect(w, r, v.Next, http.StatusSeeOther)
	})
}

// handleSignOut serves POST /staff/sign-out (behind staffOnly, so it
// carries the session's CSRF token).
func (s *Server) handleSignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure := s.secureCookies(r)
		_, sess, _ := auth.FromContext(r.Context())
		if err := s.deps.Auth.SignOut(r.Context(), sess.Token); err != nil {
			s.fail(w, r, err)
			return
		}
		http.SetCookie(w, auth.ClearSessionCookie(secure))
		http.Redirect(w, r, signInPath+"?signed-out", http.StatusSeeOther)
	})
}

// staffTool is one link on the staff home page.
type staffTool struct {
	Href, Label, Description string
}

// adminTools are the staff home page's links for administrators.
var adminTools = []staffTool{
	{usersPath, "Staff accounts", "Add people, change their roles, disable accounts and reset passwords."},
	{retentionPath, "Archive retention", "How long finished notices stay in the archive, and purging older ones."},
	{channelsPath, "Channels", "Where notices are published: add a channel, test it, choose its default categories or remove it."},
	{costsPath, "Channel costs", "The cost per contact on each channel that channel-shift reports use, with its source and the date it applies from."},
}

// handleStaffHome serves GET /staff: who is signed in, and the tools.
func (s *Server) handleStaffHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tools := []staffTool{
			{"/staff/notices", "Notices", "Write a notice, see its risks and previews, get it approved, publish, update, close or retract it."},
			{"/staff/check", "Before you post", "Paste a draft post to see anything risky in it, and why, before it goes out."},
			{"/staff/inbox", "Inbox", "Residents' questions from every channel, urgent first, with the notices that answer them."},
			{"/staff/settings/workflow", "Publishing rules", "Admins: when a second person must approve, urgent publishing, and the pre-election period."},
			{"/staff/shift", "Channel shift", "Calls avoided and money saved by digital campaigns, with charts, tables and a summary for the board."},
			{"/staff/archive", "Archive", "Everything published, every revision and where it went: search it and export it for records and Freedom of Information requests."},
		}
		u, _, _ := auth.FromContext(r.Context())
		if u.Role.Can(auth.Deliveries) {
			tools = append(tools, staffTool{deliveriesPath, "Deliveries", "Every notice's posts, updates and deletions on every channel, how each went, and retrying those that failed."})
		}
		if u.Role.AtLeast(auth.Admin) {
			tools = append(tools, adminTools...)
		}
		s.staffPage(w, r, http.StatusOK, "staff_home", &page{Title: "Staff area", Staff: staffFrom(r), StaffPath: "/staff", Data: tools})
	})
}

// handleShiftDashboard serves the channel-shift dashboard under
// /staff/shift, or says it is not set up when there is no data source.
func (s *Server) handleShiftDashboard() http.Handler {
	if s.deps.Shift == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.errorPage(w, r, http.StatusServiceUnavailable, "The channel-shift dashboard is not set up on this server.")
		})
	}
	h, err := NewShiftDashboard(s.deps.Shift, ShiftDashboardConfig{Prefix: "/staff/shift", CouncilName: s.cfg.CouncilName, Logger: s.log})
	if err != nil {
		// The template is embedded, so this is a build fault that tests catch.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.log.Error("shift dashboard", "err", err)
			s.errorPage(w, r, http.StatusInternalServerError, "")
		})
	}
	return h
}
