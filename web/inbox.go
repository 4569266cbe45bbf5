package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

const inboxPath = "/staff/inbox"

// inboxReady answers 503 when the inbox is not set up on this server, and
// reports whether it is.
func (s *Server) inboxReady(w http.ResponseWriter, r *http.Request) bool {
	if s.deps.Inbox == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "The inbox is not set up on this server.")
		return false
	}
	return true
}

// inboxByID wraps a handler of one inbox item named by the {id} path
// value: the inbox must be set up and the id must be a number.
func (s *Server) inboxByID(h func(w http.ResponseWriter, r *http.Request, id int64)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inboxReady(w, r) {
			return
		}
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, id)
	})
}

// actor names the signed-in member of staff in audit entries.
func actor(r *http.Request) string {
	u, _, _ := auth.FromContext(r.Context())
	return "user:" + u.Email
}

func role(r *http.Request) auth.Role {
	u, _, _ := auth.FromContext(r.Context())
	return u.Role
}

// pathID reads a numeric path parameter; anything else is not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, signpost.Errorf(signpost.ENOTFOUND, "Page not found")
	}
	return id, nil
}

// queueView is the inbox queue page's data.
type queueView struct {
	Status        string
	Mine          bool
	Conversations []queueRow
	Approvals     []approvalRow
}

type queueRow struct {
	inbox.Conversation
	Waiting string // how long the resident has waited, or ""
}

type approvalRow struct {
	inbox.Reply
	Who string // the conversation's resident
}

// handleInboxQueue serves GET /staff/inbox: open and waiting
// conversations, urgent first, then the longest waiting; replies awaiting
// approval above them.
func (s *Server) handleInboxQueue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inboxReady(w, r) {
			return
		}
		q := r.URL.Query()
		v := queueView{Status: q.Get("status"), Mine: q.Get("mine") != ""}
		f := store.QueueFilter{Status: inbox.Status(v.Status)}
		if v.Status != "" && !f.Status.Valid() {
			v.Status, f.Status = "", ""
		}
		if v.Mine {
			f.Assignee = actor(r)
		}
		db := s.deps.Inbox.DB()
		convs, err := db.Queue(r.Context(), f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.now()
		for _, c := range convs {
			row := queueRow{Conversation: c}
			if c.AwaitingSince != nil {
				row.Waiting = waited(now.Sub(*c.AwaitingSince))
			}
			v.Conversations = append(v.Conversations, row)
		}
		held, err := db.RepliesInState(r.Context(), inbox.ReplyApproval)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, h := range held {
			c, err := db.Conversation(r.Context(), h.ConversationID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			v.Approvals = append(v.Approvals, approvalRow{Reply: h, Who: c.Author})
		}
		s.staffPage(w, r, http.StatusOK, "staff_inbox", &page{Title: "Inbox", Staff: staffFrom(r), StaffPath: inboxPath, Data: v})
	})
}

// waited writes a wait as staff read it: "3 min", "2 h 5 min", "4 days".
func waited(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// conversationView is the conversation page's data.
type conversationView struct {
	inbox.Conversation
	Messages   []messageView
	Replies    []inbox.Reply
	Notes      []inbox.Note
	Saved      []inbox.SavedReply
	Categories []signpost.Category
	Statuses   []inbox.Status
	Rule       string
	ReplyText  string
	ReplyError string
	NoteError  string
	CanAnswer  bool // author and up
	CanApprove bool // approver and up
	Me         string
}

type messageView struct {
	inbox.Message
	Answers []answerView
}

type answerView struct {
	ID       int64
	Headline string
	Status   string
	URL      string
}

// conversation loads everything the conversation page shows.
func (s *Server) conversation(r *http.Request, id int64) (conversationView, error) {
	db := s.deps.Inbox.DB()
	ctx := r.Context()
	c, err := db.Conversation(ctx, id)
	if err != nil {
		return conversationView{}, err
	}
	v := conversationView{Conversation: c, Categories: signpost.Categories, Statuses: []inbox.Status{inbox.StatusOpen, inbox.StatusWaiting, inbox.StatusClosed},
		Rule: inboxReplyRule, CanAnswer: role(r).AtLeast(auth.Author), CanApprove: role(r).AtLeast(auth.Approver), Me: actor(r)}
	msgs, err := db.Messages(ctx, id)
	if err != nil {
		return v, err
	}
	for _, m := range msgs {
		mv := messageView{Message: m}
		for _, nid := range m.Notices {
			n, err := s.deps.Notices.Notice(ctx, nid)
			if signpost.ErrorCode(err) == signpost.ENOTFOUND {
				continue
			}
			if err != nil {
				return v, err
			}
			if n.Closed() {
				continue
			}
			mv.Answers = append(mv.Answers, answerView{ID: n.ID, Headline: n.Headline, Status: n.Status.Label(), URL: s.deps.Inbox.NoticeURL(n.ID)})
		}
		v.Messages = append(v.Messages, mv)
	}
	if v.Replies, err = db.Replies(ctx, id); err != nil {
		return v, err
	}
	if v.Notes, err = db.Notes(ctx, id); err != nil {
		return v, err
	}
	v.Saved, err = db.SavedReplies(ctx)
	return v, err
}

// inboxReplyRule is stated on the conversation page beside the reply form.
const inboxReplyRule = "Replies are screened like any outgoing post. A high-risk reply cannot be sent; a medium-risk one waits until a different person with the approver role approves it; and a reply may never repeat words flagged as abuse or a threat."

// handleInboxConversation serves GET /staff/inbox/{id}; ?saved=N puts a
// saved reply in the reply box (no JavaScript needed).
func (s *Server) handleInboxConversation() http.Handler {
	return s.inboxByID(func(w http.ResponseWriter, r *http.Request, id int64) {
		v, err := s.conversation(r, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if sid, err := strconv.ParseInt(r.URL.Query().Get("saved"), 10, 64); err == nil {
			for _, sr := range v.Saved {
				if sr.ID == sid {
					v.ReplyText = sr.Body
				}
			}
		}
		s.showConversation(w, r, http.StatusOK, v)
	})
}

func (s *Server) showConversation(w http.ResponseWriter, r *http.Request, status int, v conversationView) {
	title := fmt.Sprintf("Conversation %d", v.ID)
	s.staffPage(w, r, status, "staff_inbox_conversation", &page{Title: title, Error: v.ReplyError != "" || v.NoteError != "",
		Staff: staffFrom(r), StaffPath: inboxPath, Data: v})
}

// inboxAction serves a POST on a conversation: do runs the change; a
// user error is shown on the conversation page in the field named by
// show, anything else fails the request; success returns to the page.
func (s *Server) inboxAction(do func(r *http.Request, id int64) error, show func(v *conversationView, r *http.Request, msg string)) http.Handler {
	return s.inboxByID(func(w http.ResponseWriter, r *http.Request, id int64) {
		err := do(r, id)
		code := signpost.ErrorCode(err)
		if code == signpost.EINVALID || code == signpost.ETOOLARGE {
			v, lerr := s.conversation(r, id)
			if lerr != nil {
				s.fail(w, r, lerr)
				return
			}
			show(&v, r, signpost.ErrorMessage(err))
			s.showConversation(w, r, httpStatus(code), v)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("%s/%d", inboxPath, id), http.StatusSeeOther)
	})
}

func replyError(v *conversationView, r *http.Request, msg string) {
	v.ReplyError, v.ReplyText = msg, r.PostFormValue("text")
}

func noteError(v *conversationView, _ *http.Request, msg string) { v.NoteError = msg }

// handleInboxReply serves POST /staff/inbox/{id}/reply. With notice set
// and no text it sends the one-click reply quoting and linking the notice.
func (s *Server) handleInboxReply() http.Handler {
	return s.inboxAction(func(r *http.Request, id int64) error {
		text := r.PostFormValue("text")
		var noticeID *int64
		if raw := r.PostFormValue("notice"); raw != "" {
			nid, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return signpost.Errorf(signpost.EINVALID, "Choose a notice from the list")
			}
			n, err := s.deps.Notices.Notice(r.Context(), nid)
			if err != nil {
				return err
			}
			noticeID = &n.ID
			if strings.TrimSpace(text) == "" {
				text = inbox.NoticeReply(n, s.deps.Inbox.NoticeURL(n.ID))
			}
		}
		_, err := s.deps.Inbox.Reply(r.Context(), actor(r), id, text, noticeID)
		return err
	}, replyError)
}

func (s *Server) handleInboxAssign() http.Handler {
	return s.inboxAction(func(r *http.Request, id int64) error {
		assignee := strings.TrimSpace(r.PostFormValue("assignee"))
		if assignee == "me" {
			assignee = actor(r)
		}
		return s.deps.Inbox.Assign(r.Context(), actor(r), id, assignee)
	}, noteError)
}

func (s *Server) handleInboxStatus() http.Handler {
	return s.inboxAction(func(r *http.Request, id int64) error {
		return s.deps.Inbox.SetStatus(r.Context(), actor(r), id, inbox.Status(r.PostFormValue("status")))
	}, noteError)
}

func (s *Server) handleInboxCategory() http.Handler {
	return s.inboxAction(func(r *http.Request, id int64) error {
		return s.deps.Inbox.SetCategory(r.Context(), actor(r), id, signpost.Category(r.PostFormValue("category")))
	}, noteError)
}

func (s *Server) handleInboxNote() http.Handler {
	return s.inboxAction(func(r *http.Request, id int64) error {
		return s.deps.Inbox.AddNote(r.Context(), actor(r), id, r.PostFormValue("text"))
	}, noteError)
}

// handleInboxDecide serves POST /staff/inbox/replies/{id}/decide: an
// approver other than the reply's author approves or rejects it.
func (s *Server) handleInboxDecide() http.Handler {
	return s.inboxByID(func(w http.ResponseWriter, r *http.Request, id int64) {
		var approve bool
		switch r.PostFormValue("decision") {
		case "approve":
			approve = true
		case "reject":
		default:
			s.errorPage(w, r, http.StatusBadRequest, "Choose approve or reject.")
			return
		}
		rep, err := s.deps.Inbox.Decide(r.Context(), actor(r), id, approve)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("%s/%d", inboxPath, rep.ConversationID), http.StatusSeeOther)
	})
}

// handleInboxRedact serves POST /staff/inbox/messages/{id}/redact.
func (s *Server) handleInboxRedact() http.Handler {
	return s.inboxByID(func(w http.ResponseWriter, r *http.Request, id int64) {
		m, err := s.deps.Inbox.DB().Message(r.Context(), id)
		if err == nil {
			err = s.deps.Inbox.Redact(r.Context(), actor(r), id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("%s/%d", inboxPath, m.ConversationID), http.StatusSeeOther)
	})
}

// savedView is the saved replies page's data.
type savedView struct {
	Saved []inbox.SavedReply
	Edit  inbox.SavedReply
	Error string
}

// handleInboxSaved serves GET and POST /staff/inbox/saved (admin): the
// list, a form to add one (or change one, ?edit=N), and its errors.
func (s *Server) handleInboxSaved() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inboxReady(w, r) {
			return
		}
		var v savedView
		status := http.StatusOK
		if r.Method == http.MethodPost {
			id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
			v.Edit = inbox.SavedReply{ID: id, Title: r.PostFormValue("title"), Body: r.PostFormValue("body")}
			_, err := s.deps.Inbox.PutSavedReply(r.Context(), actor(r), v.Edit)
			switch code := signpost.ErrorCode(err); code {
			case "":
				http.Redirect(w, r, inboxPath+"/saved", http.StatusSeeOther)
				return
			case signpost.EINVALID, signpost.ETOOLARGE, signpost.ECONFLICT:
				v.Error, status = signpost.ErrorMessage(err), httpStatus(code)
			default:
				s.fail(w, r, err)
				return
			}
		}
		var err error
		if v.Saved, err = s.deps.Inbox.DB().SavedReplies(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		if edit, err := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64); err == nil && r.Method == http.MethodGet {
			for _, sr := range v.Saved {
				if sr.ID == edit {
					v.Edit = sr
				}
			}
		}
		s.staffPage(w, r, status, "staff_inbox_saved", &page{Title: "Saved replies", Error: v.Error != "", Staff: staffFrom(r), StaffPath: inboxPath, Data: v})
	})
}

// handleInboxSavedDelete serves POST /staff/inbox/saved/{id}/delete.
func (s *Server) handleInboxSavedDelete() http.Handler {
	return s.inboxByID(func(w http.ResponseWriter, r *http.Request, id int64) {
		if err := s.deps.Inbox.DeleteSavedReply(r.Context(), actor(r), id); err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, inboxPath+"/saved", http.StatusSeeOther)
	})
}

// statsView is the statistics page's data.
type statsView struct {
	Days  int
	Since time.Time
	Rows  []statRow
}

type statRow struct {
	store.InboxStat
	Median, P90, Resolution string
}

// handleInboxStats serves GET /staff/inbox/stats: response and resolution
// times per channel and category over the last ?days= (default 30).
func (s *Server) handleInboxStats() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inboxReady(w, r) {
			return
		}
		v := statsView{Days: 30}
		if d, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && d > 0 && d <= 3660 {
			v.Days = d
		}
		v.Since = s.now().AddDate(0, 0, -v.Days)
		stats, err := s.deps.Inbox.DB().InboxStats(r.Context(), v.Since)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, st := range stats {
			row := statRow{InboxStat: st}
			if st.Answered > 0 {
				row.Median, row.P90 = waited(st.MedianResponse), waited(st.P90Response)
			}
			if st.Closed > 0 {
				row.Resolution = waited(st.MedianResolution)
			}
			v.Rows = append(v.Rows, row)
		}
		s.staffPage(w, r, http.StatusOK, "staff_inbox_stats", &page{Title: "Inbox statistics", Staff: staffFrom(r), StaffPath: inboxPath, Data: v})
	})
}

// exportView is the subject-access export page's data.
type exportView struct {
	Who   string
	Error string
}

// handleInboxExport serves GET and POST /staff/inbox/export (admin): a
// POST with a handle or address downloads everything held about it as
// JSON, and is audited.
func (s *Server) handleInboxExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inboxReady(w, r) {
			return
		}
		v := exportView{}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			v.Who = strings.TrimSpace(r.PostFormValue("who"))
			data, err := s.deps.Inbox.Export(r.Context(), actor(r), v.Who)
			switch code := signpost.ErrorCode(err); code {
			case "":
				body, err := json.MarshalIndent(data, "", "  ")
				if err != nil {
					s.fail(w, r, err)
					return
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Content-Disposition", `attachment; filename="subject-access.json"`)
				w.Write(body)
				return
			case signpost.EINVALID:
				v.Error, status = signpost.ErrorMessage(err), http.StatusBadRequest
			default:
				s.fail(w, r, err)
				return
			}
		}
		s.staffPage(w, r, status, "staff_inbox_export", &page{Title: "Subject access export", Error: v.Error != "", Staff: staffFrom(r), StaffPath: inboxPath, Data: v})
	})
}
