package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
)

// ArchiveService is what the archive pages need of *archive.Service.
type ArchiveService interface {
	Search(ctx context.Context, q archive.Query, page, perPage int) (archive.Page, error)
	Export(ctx context.Context, actor string, q archive.Query, f archive.Format, w io.Writer) (int, error)
}

const archivePerPage = 20

// archiveForm is the search form as typed, with its errors.
type archiveForm struct {
	From, To, Text, Author, Category, Channel string
	FromError, ToError, TextError             string
}

func (f archiveForm) HasErrors() bool {
	return f.FromError != "" || f.ToError != "" || f.TextError != ""
}

// values is the search as query parameters, for paging and export links.
func (f archiveForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "text": f.Text, "author": f.Author, "category": f.Category, "channel": f.Channel} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Export is the link that downloads the search in format ext.
func (f archiveForm) Export(ext string) string {
	link := "/staff/archive." + ext
	if q := f.values().Encode(); q != "" {
		link += "?" + q
	}
	return link
}

// readArchiveForm reads and checks the search from the URL. Dates are the
// council's calendar days.
func (s *Server) readArchiveForm(r *http.Request) (archiveForm, archive.Query) {
	g := func(k string) string { return strings.TrimSpace(r.URL.Query().Get(k)) }
	f := archiveForm{From: g("from"), To: g("to"), Text: g("text"), Author: g("author"), Category: g("category"), Channel: g("channel")}
	if f.Category != "" && !signpost.Category(f.Category).Valid() {
		f.Category = ""
	}
	q := archive.Query{Text: f.Text, Author: f.Author, Category: f.Category, Channel: f.Channel}
	q.From, q.To, f.FromError, f.ToError = s.readDays(f.From, f.To)
	if len(f.Text) > 200 {
		f.TextError = "Search text must be 200 characters or fewer"
	}
	return f, q
}

// readDays reads a range of the council's calendar days as typed in a
// search form, either end optional: from is the start of the first day, to
// the end of the last, with a message for each end that is wrong.
func (s *Server) readDays(fromRaw, toRaw string) (from, to time.Time, fromError, toError string) {
	var err error
	if fromRaw != "" {
		if from, err = archive.ParseDay("The start date", fromRaw, s.loc); err != nil {
			fromError = signpost.ErrorMessage(err)
		}
	}
	if toRaw != "" {
		if to, err = archive.ParseDay("The end date", toRaw, s.loc); err != nil {
			toError = signpost.ErrorMessage(err)
		} else {
			to = to.AddDate(0, 0, 1) // the whole of the last day
		}
	}
	if fromError == "" && toError == "" && !from.IsZero() && !to.IsZero() && !to.After(from) {
		toError = "The end date must be on or after the start date"
	}
	return from, to, fromError, toError
}

// archiveView is the archive page's data.
type archiveView struct {
	Form       archiveForm
	Categories []signpost.Category
	Searched   bool
	Result     archive.Page
	Prev, Next string // links to the neighbouring pages, "" at the ends
	CanExport  bool
}

// handleArchive serves GET /staff/archive: the search form and one page of
// published revisions, newest first.
func (s *Server) handleArchive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Archive == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "The archive is not set up on this server.")
			return
		}
		form, q := s.readArchiveForm(r)
		u, _, _ := auth.FromContext(r.Context())
		v := archiveView{Form: form, Categories: signpost.Categories, Searched: r.URL.RawQuery != "", CanExport: u.Role.Can(auth.ExportArchive)}
		pg := &page{Title: "Archive", Staff: staffFrom(r), StaffPath: "/staff/archive", Data: &v}
		if form.HasErrors() {
			pg.Error = true
			s.staffPage(w, r, http.StatusBadRequest, "staff_archive", pg)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		res, err := s.deps.Archive.Search(r.Context(), q, max(n, 1), archivePerPage)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Result = res
		link := func(p int) string {
			vals := form.values()
			vals.Set("page", strconv.Itoa(p))
			return "/staff/archive?" + vals.Encode()
		}
		if res.Page > 1 {
			v.Prev = link(min(res.Page-1, res.Pages()))
		}
		if res.Page < res.Pages() {
			v.Next = link(res.Page + 1)
		}
		s.staffPage(w, r, http.StatusOK, "staff_archive", pg)
	})
}

// handleArchiveExport serves GET /staff/archive.csv and .jsonl: the same
// search as the page, every matching revision, streamed as it is read. The
// export is audited (who, which search) before the first byte goes out.
func (s *Server) handleArchiveExport(f archive.Format) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Archive == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "The archive is not set up on this server.")
			return
		}
		form, q := s.readArchiveForm(r)
		if form.HasErrors() {
			msg := form.FromError + " " + form.ToError + " " + form.TextError
			s.errorPage(w, r, http.StatusBadRequest, strings.TrimSpace(msg))
			return
		}
		u, _, _ := auth.FromContext(r.Context())
		// A whole archive can take longer than the server's write timeout.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Minute))
		sw := &startedWriter{w: w, start: func() {
			h := w.Header()
			h.Set("Content-Type", f.ContentType())
			h.Set("Content-Disposition", `attachment; filename="signpost-archive-`+s.now().In(s.loc).Format("2006-01-02")+"."+string(f)+`"`)
			h.Set("X-Content-Type-Options", "nosniff")
		}}
		n, err := s.deps.Archive.Export(r.Context(), u.Actor(), q, f, sw)
		switch {
		case err != nil && !sw.started:
			s.fail(w, r, err)
		case err != nil:
			// Too late for an error page: the download ends short.
			s.log.Error("archive export failed part way", "format", string(f), "rows", n, "err", err)
		case !sw.started:
			sw.start()
			w.WriteHeader(http.StatusOK)
		}
	})
}

// startedWriter sets the download's headers just before its first byte, so
// that an error before then can still be an error page.
type startedWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (sw *startedWriter) Write(p []byte) (int, error) {
	if !sw.started {
		sw.started = true
		sw.start()
	}
	return sw.w.Write(p)
}
