package web

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/signpost-uk/signpost"
)

// FacebookWebhook receives a Facebook app's Page webhook (a
// *sources.FacebookHook).
type FacebookWebhook interface {
	// Verify answers the subscription check, returning the challenge to
	// echo when the mode and verify token are right.
	Verify(mode, token, challenge string) (string, bool)
	// Receive checks the signature over the raw body and takes the
	// comments and messages in.
	Receive(ctx context.Context, body []byte, signature string) error
}

// maxWebhookBytes bounds a delivery: Facebook batches at most 1,000
// changes, each well under a kilobyte.
const maxWebhookBytes = 1 << 20

// handleFacebookVerify answers GET /hooks/facebook, Facebook's check that
// the callback URL is ours: hub.challenge is echoed only when hub.mode is
// subscribe and hub.verify_token matches.
func (s *Server) handleFacebookVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook := s.deps.FacebookHook
		if hook == nil {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		q := r.URL.Query()
		challenge, ok := hook.Verify(q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge"))
		if !ok {
			writeJSONError(w, http.StatusForbidden, signpost.EFORBIDDEN, "verify token or mode is wrong")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, challenge)
	})
}

// handleFacebookWebhook answers POST /hooks/facebook. The body is read
// raw, as the signature covers its exact bytes. Anything but 200 makes
// Facebook deliver again later, which is what a store failure needs and
// harmless otherwise.
func (s *Server) handleFacebookWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook := s.deps.FacebookHook
		if hook == nil {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, signpost.ETOOLARGE, "delivery too large")
			return
		}
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, signpost.EINVALID, "could not read the delivery")
			return
		}
		if err := hook.Receive(r.Context(), body, r.Header.Get("X-Hub-Signature-256")); err != nil {
			code := signpost.ErrorCode(err)
			if code == signpost.EINTERNAL {
				s.log.Error("facebook webhook", "err", err)
			}
			writeJSONError(w, httpStatus(code), code, signpost.ErrorMessage(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
}
