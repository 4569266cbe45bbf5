package web

import (
	"context"
	"net/http"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
)

// SingleSignOn is what the sign-in pages need of *auth.OIDC.
type SingleSignOn interface {
	AuthURL() (string, auth.Flow)
	Exchange(ctx context.Context, flow auth.Flow, state, code string) (auth.User, auth.Session, error)
}

const (
	ssoStartPath    = "/staff/sso"
	ssoCallbackPath = "/staff/sso/callback"
)

// handleSSOStart serves GET /staff/sso: the "Sign in with your
// organisation account" button sends people here, and from here to the
// identity provider, with the flow's secrets in a short-lived cookie.
func (s *Server) handleSSOStart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.deps.SSO == nil {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		to, flow := s.deps.SSO.AuthURL()
		http.SetCookie(w, auth.FlowCookie(flow, s.secureCookies(r)))
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}

// handleSSOCallback serves GET /staff/sso/callback, where the provider
// sends people back: the flow cookie must match what came back (the auth
// service checks state, nonce and PKCE), and is cleared whatever happens
// so that a flow is used once.
func (s *Server) handleSSOCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.deps.SSO == nil {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		secure := s.secureCookies(r)
		flow, ok := auth.FlowFromRequest(r, secure)
		http.SetCookie(w, auth.ClearFlowCookie(secure))
		q := r.URL.Query()
		refuse := func(status int, msg string) {
			v := signInView{Next: "/staff", Summary: msg, SSO: true, CSRFToken: s.signInToken(w, r)}
			s.staffPage(w, r, status, "staff_sign_in", &page{Title: "Sign in", Error: true, Data: v})
		}
		switch {
		case q.Get("error") != "":
			// The provider's own error text is not shown: it can carry
			// tenant details, and people need only know what to do.
			refuse(http.StatusUnauthorized, "Signing in with your organisation account was cancelled or refused. Try again, or sign in with your password.")
			return
		case !ok:
			refuse(http.StatusBadRequest, "Your sign-in took too long or was started in another browser. Try again.")
			return
		}
		_, sess, err := s.deps.SSO.Exchange(r.Context(), flow, q.Get("state"), q.Get("code"))
		switch code := signpost.ErrorCode(err); code {
		case "":
		case signpost.EUNAUTHORIZED, signpost.EFORBIDDEN, signpost.ECONFLICT:
			s.log.Warn("single sign-on refused", "code", code)
			refuse(httpStatus(code), upperFirst(signpost.ErrorMessage(err)))
			return
		default:
			s.fail(w, r, err)
			return
		}
		if old, err := r.Cookie(auth.SessionCookieName(secure)); err == nil {
			if err := s.deps.Auth.SignOut(r.Context(), old.Value); err != nil {
				s.log.Warn("end previous session at sign-in", "err", err)
			}
		}
		http.SetCookie(w, auth.SessionCookie(sess, secure))
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
	})
}
