package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

// Limits on what POST /api/v1/check accepts: a post is a few hundred
// characters; a long e-mail draft fits easily.
const (
	maxCheckBody = 64 << 10
	maxCheckText = 20000 // characters
)

// checkRequest is the body of POST /api/v1/check.
type checkRequest struct {
	Text        string `json:"text"`
	Context     string `json:"context"`      // "outgoing" (default) or "incoming"
	PreElection bool   `json:"pre_election"` // force the pre-election rules on
}

// CheckAPI serves POST /api/v1/check: screen one draft and return the
// report. It is guidance, not surveillance: it stores nothing, and the log
// line for a request carries sizes and the verdict, never the text.
func CheckAPI(s *risk.Screener, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use POST.")
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
			writeCheckError(w, signpost.Errorf(signpost.EINVALID, "Send the draft as JSON (Content-Type: application/json)."))
			return
		}
		req, err := decodeCheck(w, r)
		if err != nil {
			writeCheckError(w, err)
			return
		}
		dir, err := risk.ParseDirection(req.Context)
		if err != nil {
			writeCheckError(w, signpost.Errorf(signpost.EINVALID, "context must be \"outgoing\" or \"incoming\"."))
			return
		}
		start := time.Now()
		rep := s.Screen(r.Context(), req.Text, risk.Options{Context: dir, PreElection: req.PreElection})
		logger.Debug("check", "bytes", len(req.Text), "level", rep.Level.String(), "findings", len(rep.Findings), "took", time.Since(start))
		body, err := json.Marshal(rep)
		if err != nil {
			logger.Error("check: encode report", "err", err)
			writeCheckError(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		w.Write(append(body, '\n'))
	})
}

func decodeCheck(w http.ResponseWriter, r *http.Request) (checkRequest, error) {
	var req checkRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCheckBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, signpost.Errorf(signpost.ETOOLARGE, "The draft is too long to check (limit %d KB).", maxCheckBody>>10)
		}
		if errors.Is(err, io.EOF) {
			return req, signpost.Errorf(signpost.EINVALID, "Send a JSON object such as {\"text\": \"your draft\"}.")
		}
		return req, signpost.Errorf(signpost.EINVALID, "The request is not valid JSON: %v.", err)
	}
	if dec.More() {
		return req, signpost.Errorf(signpost.EINVALID, "Send one JSON object.")
	}
	if !utf8.ValidString(req.Text) {
		return req, signpost.Errorf(signpost.EINVALID, "The text is not valid UTF-8.")
	}
	if strings.TrimSpace(req.Text) == "" {
		return req, signpost.Errorf(signpost.EINVALID, "text is required.")
	}
	if n := utf8.RuneCountInString(req.Text); n > maxCheckText {
		return req, signpost.Errorf(signpost.ETOOLARGE, "The draft is %d characters; the limit is %d.", n, maxCheckText)
	}
	return req, nil
}

func writeCheckError(w http.ResponseWriter, err error) {
	code := signpost.ErrorCode(err)
	writeJSONError(w, httpStatus(code), code, signpost.ErrorMessage(err))
}
