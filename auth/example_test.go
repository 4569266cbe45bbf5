package auth_test

import (
	"context"
	"net"
	"net/http"
	"os"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

// Example_console shows how the web layer puts console routes behind the
// middleware and uses the Service for the sign-in form. (Compiled, not
// run: it needs a database.)
func Example_console() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "signpost.db")
	svc, _ := auth.NewService(db, auth.Config{})
	const secure = true // served over HTTPS: the cookie takes the __Host- prefix

	mux := http.NewServeMux()
	staff := func(min auth.Role, h http.Handler) http.Handler {
		return auth.RequireCSRF(auth.RequireRole(min)(h))
	}
	mux.Handle("GET /console/", staff(auth.Viewer, http.NotFoundHandler()))
	mux.Handle("POST /console/notices/{id}/approve", staff(auth.Approver, http.NotFoundHandler()))
	mux.HandleFunc("POST /sign-in", func(w http.ResponseWriter, r *http.Request) {
		client, _, _ := net.SplitHostPort(r.RemoteAddr)
		sess, err := svc.SignIn(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), client)
		if err != nil {
			// EUNAUTHORIZED, ERATELIMITED or EFORBIDDEN: show the message.
			http.Error(w, signpost.ErrorMessage(err), http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, auth.SessionCookie(sess, secure))
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	// Optional single sign-on: SIGNPOST_OIDC_* configure it.
	if cfg, err := auth.LoadOIDCConfig(os.Getenv); err == nil && cfg != nil {
		sso, err := svc.NewOIDC(ctx, *cfg)
		if err == nil {
			mux.HandleFunc("GET /auth/start", func(w http.ResponseWriter, r *http.Request) {
				url, flow := sso.AuthURL()
				http.SetCookie(w, auth.FlowCookie(flow, secure))
				http.Redirect(w, r, url, http.StatusFound)
			})
			mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
				flow, _ := auth.FlowFromRequest(r, secure)
				http.SetCookie(w, auth.ClearFlowCookie(secure))
				_, sess, err := sso.Exchange(r.Context(), flow, r.URL.Query().Get("state"), r.URL.Query().Get("code"))
				if err != nil {
					http.Error(w, signpost.ErrorMessage(err), http.StatusUnauthorized)
					return
				}
				http.SetCookie(w, auth.SessionCookie(sess, secure))
				http.Redirect(w, r, "/console/", http.StatusSeeOther)
			})
		}
	}
	// Forms render the session's CSRF token in a hidden field:
	//   _, sess, _ := auth.FromContext(r.Context())
	//   <input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
	handler := auth.LoadSession(svc, secure)(mux)
	_ = http.ListenAndServe("127.0.0.1:8080", handler)
}
