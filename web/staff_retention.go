package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

// Retention is what the retention page needs of *archive.Service.
type Retention interface {
	Retention(ctx context.Context) (store.ArchiveRetention, error)
	SetRetention(ctx context.Context, actor string, keepDays int) error
	Purge(ctx context.Context, actor string, dryRun bool) (archive.PurgeReport, error)
}

const retentionPath = "/staff/admin/retention"

type retentionView struct {
	Setting  store.ArchiveRetention
	Preview  archive.PurgeReport // what a purge now would remove
	KeepDays string
	Errors   formErrors
	Done     string
}

var retentionDone = map[string]string{
	"saved":  "The retention period was saved. Purges from now on use it.",
	"purged": "The archive was purged as the retention period says, and the purge was recorded in the audit log.",
}

// handleRetention serves GET and POST /staff/admin/retention (see and set
// how long finished notices are kept) and POST …/purge (purge now).
func (s *Server) handleRetention(purge bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs, ok := s.deps.Archive.(Retention)
		if !ok {
			s.errorPage(w, r, http.StatusServiceUnavailable, "The archive is not set up on this server.")
			return
		}
		u, _, _ := auth.FromContext(r.Context())
		v := retentionView{Done: retentionDone[r.URL.Query().Get("done")]}
		status := http.StatusOK
		switch {
		case r.Method == http.MethodPost && purge:
			if _, err := rs.Purge(r.Context(), u.Actor(), false); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, retentionPath+"?done=purged", http.StatusSeeOther)
			return
		case r.Method == http.MethodPost:
			v.KeepDays = strings.TrimSpace(r.PostFormValue("keep_days"))
			days, err := strconv.Atoi(v.KeepDays)
			if err == nil {
				err = rs.SetRetention(r.Context(), u.Actor(), days)
			} else {
				err = signpost.Errorf(signpost.EINVALID, "Enter the number of days as a whole number, or 0 to keep everything")
			}
			switch signpost.ErrorCode(err) {
			case "":
				http.Redirect(w, r, retentionPath+"?done=saved", http.StatusSeeOther)
				return
			case signpost.EINVALID:
				v.Errors = formErrors{{"keep-days", upperFirst(signpost.ErrorMessage(err))}}
				status = http.StatusBadRequest
			default:
				s.fail(w, r, err)
				return
			}
		}
		var err error
		if v.Setting, err = rs.Retention(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		if v.KeepDays == "" {
			v.KeepDays = strconv.Itoa(v.Setting.KeepDays)
		}
		if v.Preview, err = rs.Purge(r.Context(), u.Actor(), true); err != nil {
			s.fail(w, r, err)
			return
		}
		s.staffPage(w, r, status, "staff_retention", &page{Title: "Archive retention", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: retentionPath, Data: &v})
	})
}
