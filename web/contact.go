package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/inbox"
)

// Limits of the enquiry form. The body limit is generous for the fields
// and small enough that nobody can post megabytes.
const (
	contactMaxBody    = 16 << 10
	contactMaxMessage = 3000
	contactMaxName    = 100
	contactMaxEmail   = 254
)

// contactView is the enquiry form's data.
type contactView struct {
	Name, Email, Message string
	CSRFToken            string
	MaxMessage           int
	Errors               []fieldError
}

type fieldError struct{ Field, Message string }

func (v contactView) ErrorFor(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// handleContactForm serves GET /contact: the residents' enquiry form. It
// needs no JavaScript and has no CAPTCHA; a hidden honeypot field, a
// per-client rate limit and size limits keep bots out.
func (s *Server) handleContactForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := contactView{CSRFToken: s.signInToken(w, r), MaxMessage: contactMaxMessage}
		s.contactPage(w, r, http.StatusOK, "contact", v)
	})
}

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, status int, name string, v any) {
	title := "Contact us"
	if name == "contact_sent" {
		title = "Message sent"
	}
	errs := false
	if cv, ok := v.(contactView); ok {
		errs = len(cv.Errors) > 0
	}
	// Rendered per request like a staff page: the form carries this
	// browser's token and must never be cached.
	s.staffPage(w, r, status, name, &page{Title: title, Error: errs, Canonical: "/contact", Data: v})
}

// handleContactSend serves POST /contact: it checks the form, stores the
// message in the inbox as channel "form" and shows the confirmation.
// Nothing the resident wrote is logged.
func (s *Server) handleContactSend() http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := cop.Check(r); err != nil {
			s.errorPage(w, r, http.StatusForbidden, "This request came from another site and was refused.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, contactMaxBody)
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "Your message is too long. Shorten it and try again.")
			return
		}
		if !s.contactLimit.allow(clientKey(r), s.now()) {
			w.Header().Set("Retry-After", "600")
			s.errorPage(w, r, http.StatusTooManyRequests, "You have sent several messages in a short time. Please wait ten minutes and try again.")
			return
		}
		v := contactView{
			Name:       strings.TrimSpace(r.PostFormValue("name")),
			Email:      strings.TrimSpace(r.PostFormValue("email")),
			Message:    strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("message"), "\r\n", "\n")),
			MaxMessage: contactMaxMessage,
		}
		if r.PostFormValue("website") != "" {
			// Only bots fill the hidden field: thank them and store nothing.
			s.log.Info("enquiry form: honeypot filled; message dropped")
			http.Redirect(w, r, "/contact/sent", http.StatusSeeOther)
			return
		}
		if !s.checkSignInToken(r) {
			v.Errors = append(v.Errors, fieldError{"message", "The form had expired. Check your message and send it again."})
		}
		if v.Name != "" && (utf8.RuneCountInString(v.Name) > contactMaxName || !utf8.ValidString(v.Name)) {
			v.Errors = append(v.Errors, fieldError{"name", "Your name must be 100 characters or fewer"})
		}
		if addr, err := mail.ParseAddress(v.Email); v.Email == "" {
			v.Errors = append(v.Errors, fieldError{"email", "Enter your email address, so we can reply"})
		} else if err != nil || addr.Address != v.Email || len(v.Email) > contactMaxEmail {
			v.Errors = append(v.Errors, fieldError{"email", "Enter an email address in the correct format, like name@example.com"})
		}
		switch n := utf8.RuneCountInString(v.Message); {
		case n == 0:
			v.Errors = append(v.Errors, fieldError{"message", "Enter your message"})
		case n > contactMaxMessage || !utf8.ValidString(v.Message):
			v.Errors = append(v.Errors, fieldError{"message", "Your message must be 3000 characters or fewer"})
		}
		if len(v.Errors) > 0 {
			v.CSRFToken = s.signInToken(w, r)
			s.contactPage(w, r, http.StatusBadRequest, "contact", v)
			return
		}
		if s.deps.Inbox == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "The enquiry form is not available at the moment.")
			return
		}
		// The same form sent twice (a double click, a resent POST) has
		// the same id, so it is stored once.
		sum := sha256.Sum256([]byte(r.PostFormValue(auth.CSRFField) + "\x00" + strings.ToLower(v.Email) + "\x00" + v.Message))
		_, _, err := s.deps.Inbox.DB().Ingest(r.Context(), inbox.Incoming{
			Channel: inbox.ChannelForm, Kind: inbox.KindForm, ExternalID: "form-" + hex.EncodeToString(sum[:12]),
			Author: v.Email, AuthorName: v.Name, Text: v.Message, ReceivedAt: s.now(),
		})
		if err != nil {
			if signpost.ErrorCode(err) == signpost.EINVALID {
				v.Errors = append(v.Errors, fieldError{"message", signpost.ErrorMessage(err)})
				v.CSRFToken = s.signInToken(w, r)
				s.contactPage(w, r, http.StatusBadRequest, "contact", v)
				return
			}
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/contact/sent", http.StatusSeeOther)
	})
}

// handleContactSent serves GET /contact/sent, the confirmation.
func (s *Server) handleContactSent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.contactPage(w, r, http.StatusOK, "contact_sent", nil)
	})
}
