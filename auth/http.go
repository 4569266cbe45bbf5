package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/signpost-uk/signpost"
)

// Cookie and form names the console uses.
const (
	cookieName = "signpost_session"
	// CSRFField is the hidden form field that carries the CSRF token.
	CSRFField = "csrf_token"
	// CSRFHeader carries the CSRF token on script requests.
	CSRFHeader = "X-CSRF-Token"
)

// SessionCookieName is the session cookie's name. Over HTTPS it takes the
// __Host- prefix, which makes browsers insist on Secure, Path=/ and no
// Domain, so a sibling subdomain cannot plant or overwrite it.
func SessionCookieName(secure bool) string {
	if secure {
		return "__Host-" + cookieName
	}
	return cookieName
}

// SessionCookie carries sess's token: HttpOnly so scripts cannot read it,
// SameSite=Lax so other sites cannot send it with their forms, Secure over
// HTTPS, and expiring with the session's absolute expiry.
func SessionCookie(sess Session, secure bool) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookieName(secure), Value: sess.Token, Path: "/",
		Expires: sess.ExpiresAt, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}
}

// ClearSessionCookie removes the session cookie from the browser.
func ClearSessionCookie(secure bool) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookieName(secure), Value: "", Path: "/", MaxAge: -1,
		Expires: time.Unix(0, 0), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}
}

type principalKey struct{}

type principal struct {
	user    User
	session Session
}

// NewContext returns ctx carrying a signed-in user and their session.
func NewContext(ctx context.Context, u User, s Session) context.Context {
	return context.WithValue(ctx, principalKey{}, principal{u, s})
}

// FromContext returns the signed-in user and session, if there is one.
func FromContext(ctx context.Context) (User, Session, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p.user, p.session, ok
}

// Authenticator is what LoadSession needs of a Service.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (User, Session, error)
}

// LoadSession reads the session cookie and, when it names a live session,
// puts its user in the request's context. It never refuses a request
// itself, since residents' pages stay public: RequireRole does that. A
// cookie for an ended session is cleared.
func LoadSession(a Authenticator, secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie(SessionCookieName(secure))
			if err != nil || c.Value == "" {
				next.ServeHTTP(w, r)
				return
			}
			u, s, err := a.Authenticate(r.Context(), c.Value)
			switch signpost.ErrorCode(err) {
			case "":
				next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), u, s)))
			case signpost.EUNAUTHORIZED:
				http.SetCookie(w, ClearSessionCookie(secure))
				next.ServeHTTP(w, r)
			default:
				http.Error(w, signpost.ErrorMessage(err), http.StatusServiceUnavailable)
			}
		})
	}
}

// RequireRole lets a request through only for a signed-in user whose role
// is at least min: 401 for nobody signed in, 403 for too low a role. Staff
// routes are wrapped in it; the web layer may turn the 401 into a redirect
// to the sign-in page.
func RequireRole(min Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _, ok := FromContext(r.Context())
			switch {
			case !ok:
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "Sign in to see this page.", http.StatusUnauthorized)
			case !u.Role.AtLeast(min):
				http.Error(w, "Your role does not allow this.", http.StatusForbidden)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// RequireCSRF refuses unsafe requests (anything but GET, HEAD, OPTIONS and
// TRACE) that do not carry the session's CSRF token in the csrf_token form
// field or the X-CSRF-Token header, or that a browser marks as coming from
// another origin (Go's CrossOriginProtection, a second line). Put it after
// LoadSession; an unsafe request with no session is refused too, since a
// form that changes something is never anonymous in the console.
func RequireCSRF(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			next.ServeHTTP(w, r)
			return
		}
		if err := cop.Check(r); err != nil {
			http.Error(w, "This request came from another site and was refused.", http.StatusForbidden)
			return
		}
		_, sess, ok := FromContext(r.Context())
		token := r.Header.Get(CSRFHeader)
		if token == "" {
			token = r.PostFormValue(CSRFField)
		}
		if !ok || !CheckCSRF(sess, token) {
			http.Error(w, "This form has expired. Go back, reload the page and try again.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
