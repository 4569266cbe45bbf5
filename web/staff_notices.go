package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/render"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/workflow"
)

// Desk is the approval workflow the console drives (a *publish.Desk).
type Desk interface {
	Settings(ctx context.Context) (workflow.Settings, error)
	PreElection(ctx context.Context) (bool, error)
	Assess(s workflow.Settings, in signpost.NoticeInput) publish.Assessment
	Item(ctx context.Context, id int64) (workflow.Item, error)
	Items(ctx context.Context, f publish.ItemFilter) ([]workflow.Item, error)
	ChannelNames(ctx context.Context) ([]string, error)
	CategoryChannels(ctx context.Context) (map[signpost.Category][]string, error)
	StaffNames(ctx context.Context) (map[int64]string, error)

	Create(ctx context.Context, actor workflow.Actor, action workflow.Action, noticeID int64, in signpost.NoticeInput) (workflow.Item, error)
	Edit(ctx context.Context, actor workflow.Actor, id int64, version int, in signpost.NoticeInput) (workflow.Item, error)
	Submit(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Approve(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Return(ctx context.Context, actor workflow.Actor, id int64, version int, comment string) (workflow.Item, error)
	Publish(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Urgent(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Schedule(ctx context.Context, actor workflow.Actor, id int64, version int, at time.Time) (workflow.Item, error)
	Unschedule(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Review(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Withdraw(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error)
	Retract(ctx context.Context, actor workflow.Actor, noticeID int64, reason string) (workflow.Item, error)
	SaveSettings(ctx context.Context, actor workflow.Actor, s workflow.Settings) error
}

// actorFrom is the signed-in member of staff as the workflow sees them.
func actorFrom(r *http.Request) workflow.Actor {
	u, _, _ := auth.FromContext(r.Context())
	return workflow.Actor{ID: u.ID, Name: u.Actor(), Role: workflow.Role(u.Role)}
}

// formError is one problem with a form, shown in the error summary and
// beside its field (Field is the input's id).
type formError struct{ Field, Message string }

// fieldErrors maps a field to its message for the template.
type fieldErrors map[string]string

// needDesk answers 503 when the server has no workflow.
func (s *Server) needDesk(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Desk == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Writing notices is not set up on this server.")
			return
		}
		h(w, r)
	})
}

// --- the list ---

type itemRow struct {
	Item      workflow.Item
	Author    string
	When      time.Time
	RiskTag   string
	StateTag  string
	NoticeRef string
}

type listSection struct {
	ID, Title, Empty string
	Rows             []itemRow
}

type publishedRow struct {
	Notice   signpost.Notice
	State    string
	StateTag string
}

type noticesView struct {
	Sections  []listSection
	Published []publishedRow
	CanWrite  bool
}

func stateTag(st workflow.State) string {
	switch st {
	case workflow.Submitted:
		return "govuk-tag--blue"
	case workflow.Approved:
		return "govuk-tag--green"
	case workflow.Returned:
		return "govuk-tag--orange"
	case workflow.Scheduled:
		return "govuk-tag--purple"
	case workflow.Published:
		return "govuk-tag--turquoise"
	}
	return "govuk-tag--grey"
}

// noticeState names where a published notice is in its life.
func noticeState(n signpost.Notice) (string, string) {
	switch {
	case n.Retracted():
		return "Retracted", "govuk-tag--red"
	case n.Closed():
		return "Closed", "govuk-tag--grey"
	case n.Revision > 1:
		return "Updated", "govuk-tag--turquoise"
	}
	return "Published", "govuk-tag--turquoise"
}

// handleNoticesList serves GET /staff/notices: the work in each state.
func (s *Server) handleNoticesList() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		me := actorFrom(r)
		names, err := s.deps.Desk.StaffNames(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sections := []struct {
			id, title, empty string
			f                publish.ItemFilter
		}{
			{"mine", "Your drafts", "You have no drafts.", publish.ItemFilter{AuthorID: me.ID, States: []workflow.State{workflow.Draft, workflow.Returned}}},
			{"awaiting", "Waiting for approval", "Nothing is waiting for approval.", publish.ItemFilter{States: []workflow.State{workflow.Submitted}}},
			{"approved", "Approved, not yet published", "Nothing approved is waiting to be published.", publish.ItemFilter{States: []workflow.State{workflow.Approved}}},
			{"scheduled", "Scheduled", "Nothing is scheduled.", publish.ItemFilter{States: []workflow.State{workflow.Scheduled}}},
			{"review", "Published urgently, waiting for review", "No urgent notices are waiting for review.", publish.ItemFilter{Review: workflow.ReviewPending}},
		}
		v := noticesView{CanWrite: me.Role.AtLeast(workflow.Author)}
		for _, sec := range sections {
			items, err := s.deps.Desk.Items(ctx, sec.f)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			ls := listSection{ID: sec.id, Title: sec.title, Empty: sec.empty}
			for _, it := range items {
				ls.Rows = append(ls.Rows, itemRow{Item: it, Author: names[it.AuthorID], When: it.UpdatedAt,
					RiskTag: severityTag(it.Risk), StateTag: stateTag(it.State)})
			}
			v.Sections = append(v.Sections, ls)
		}
		ns, err := s.deps.Notices.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true, IncludeRetracted: true, Limit: 50})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, n := range ns {
			st, tag := noticeState(n)
			v.Published = append(v.Published, publishedRow{Notice: n, State: st, StateTag: tag})
		}
		s.staffPage(w, r, http.StatusOK, "staff_notices", &page{Title: "Notices", Staff: staffFrom(r), StaffPath: "/staff/notices", Data: v})
	})
}

// --- composing ---

type placeOption struct{ Value, Label string }

type composeView struct {
	Action     string // workflow action: create or update
	NoticeID   int64
	ItemID     int64
	Version    int
	FormAction string
	Category   string
	Status     string
	Places     []string // up to placeInputs references, blanks included
	AllArea    bool
	Headline   string
	Body       string
	Starts     string // datetime-local value
	Ends       string
	Channels   []channelChoice
	// NoChannels is "the residents' site and feeds only", ticked.
	NoChannels bool
	// Defaults are the categories with default channels, which a notice
	// with no channel ticked goes to.
	Defaults   []categoryChannels
	Categories []signpost.Category
	Statuses   []signpost.Status
	Options    []placeOption
	Errors     []formError
	Field      fieldErrors
}

type channelChoice struct {
	Name    string
	Checked bool
}

type categoryChannels struct {
	Category signpost.Category
	Channels []string
}

// noChannels is the value of the compose form's "residents' site and feeds
// only" box, among the channel boxes; channel names cannot contain a space.
const noChannels = "site only"

// placeInputs is how many place boxes the form offers; a notice about
// more places names their ward or the whole area.
const placeInputs = 5

// localInput is how the console writes a date and time in a form; people
// may type a space or a 'T' between them.
const localInput = "2006-01-02 15:04"

// parseLocal reads a date and time typed in the council's time zone.
func (s *Server) parseLocal(raw string) (time.Time, error) {
	raw = strings.Join(strings.Fields(strings.Replace(strings.TrimSpace(raw), "T", " ", 1)), " ")
	return time.ParseInLocation(localInput, raw, s.loc)
}

func (s *Server) localValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(s.loc).Format(localInput)
}

// newComposeView fills the compose form with in; siteOnly ticks "the
// residents' site and feeds only" (in has no channels because its author
// chose none, not because nothing was chosen yet).
func (s *Server) newComposeView(ctx context.Context, in signpost.NoticeInput, siteOnly bool) (composeView, error) {
	v := composeView{Category: string(in.Category), Status: string(in.Status), Headline: in.Headline, Body: in.Body,
		Starts: s.localValue(in.Starts), Ends: s.localValue(in.Ends), Categories: signpost.Categories, Statuses: signpost.Statuses, Field: fieldErrors{},
		NoChannels: siteOnly && len(in.Channels) == 0}
	for _, p := range in.Places {
		if p.Kind == signpost.PlaceAll {
			v.AllArea = true
			continue
		}
		v.Places = append(v.Places, p.String())
	}
	for len(v.Places) < placeInputs {
		v.Places = append(v.Places, "")
	}
	names, err := s.deps.Desk.ChannelNames(ctx)
	if err != nil {
		return v, err
	}
	chosen := map[string]bool{}
	for _, c := range in.Channels {
		chosen[c] = true
	}
	for _, n := range names {
		v.Channels = append(v.Channels, channelChoice{Name: n, Checked: chosen[n]})
	}
	defaults, err := s.deps.Desk.CategoryChannels(ctx)
	if err != nil {
		return v, err
	}
	for _, c := range signpost.Categories {
		if len(defaults[c]) > 0 {
			v.Defaults = append(v.Defaults, categoryChannels{c, defaults[c]})
		}
	}
	snap, err := s.current(ctx)
	if err != nil {
		return v, err
	}
	for _, w := range snap.wards {
		v.Options = append(v.Options, placeOption{"ward:" + w.Code, "Ward: " + w.Name})
	}
	for _, sc := range snap.schools {
		v.Options = append(v.Options, placeOption{"school:" + sc.URN, "School: " + sc.Name})
	}
	for _, rt := range snap.routes {
		v.Options = append(v.Options, placeOption{"route:" + rt.ID, "Gritting route: " + rt.Name})
	}
	for _, rd := range snap.rounds {
		v.Options = append(v.Options, placeOption{"round:" + rd.ID, "Bin round: " + rd.ID + " (" + rd.Sector + ")"})
	}
	return v, nil
}

// readNoticeForm reads the compose form. Problems are returned per field
// so the form can show them all at once. With no channel ticked the notice
// gets its category's default channels, as the form says, unless "the
// residents' site and feeds only" is ticked (siteOnly).
func (s *Server) readNoticeForm(r *http.Request) (in signpost.NoticeInput, siteOnly bool, errs []formError, err error) {
	in.Category = signpost.Category(r.PostFormValue("category"))
	if !in.Category.Valid() {
		errs = append(errs, formError{"category", "Select what the notice is about"})
	}
	in.Status = signpost.Status(r.PostFormValue("status"))
	if !in.Status.Valid() {
		errs = append(errs, formError{"status", "Select the state of the service"})
	}
	if r.PostFormValue("all_area") != "" {
		in.Places = append(in.Places, signpost.PlaceRef{Kind: signpost.PlaceAll})
	}
	for i := 1; i <= placeInputs; i++ {
		raw := strings.TrimSpace(r.PostFormValue("place_" + strconv.Itoa(i)))
		if raw == "" {
			continue
		}
		p, err := signpost.ParsePlaceRef(raw)
		if err != nil {
			errs = append(errs, formError{"place_" + strconv.Itoa(i), "Place " + strconv.Itoa(i) + ": choose a place from the list, for example school:142316 or ward:NDW01"})
			continue
		}
		in.Places = append(in.Places, p)
	}
	if len(in.Places) == 0 && !hasField(errs, "place_") {
		errs = append(errs, formError{"place_1", "Choose at least one place, or tick the whole council area"})
	}
	in.Headline = strings.TrimSpace(r.PostFormValue("headline"))
	switch {
	case in.Headline == "":
		errs = append(errs, formError{"headline", "Enter a headline"})
	case len(in.Headline) > 200:
		errs = append(errs, formError{"headline", "The headline must be 200 characters or fewer"})
	}
	in.Body = strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("body")), "\r\n", "\n")
	if len(in.Body) > 20000 {
		errs = append(errs, formError{"body", "The details must be 20,000 characters or fewer"})
	}
	for _, f := range []struct {
		name, label string
		dst         **time.Time
	}{{"starts", "start", &in.Starts}, {"ends", "end", &in.Ends}} {
		raw := strings.TrimSpace(r.PostFormValue(f.name))
		if raw == "" {
			continue
		}
		t, err := s.parseLocal(raw)
		if err != nil {
			errs = append(errs, formError{f.name, "Enter the " + f.label + " as a date and time, for example 2026-01-06 07:30"})
			continue
		}
		*f.dst = &t
	}
	if in.Starts != nil && in.Ends != nil && in.Ends.Before(*in.Starts) && !hasField(errs, "ends") {
		errs = append(errs, formError{"ends", "The end must be after the start"})
	}
	for _, c := range r.PostForm["channels"] {
		if c == noChannels {
			siteOnly = true
		} else {
			in.Channels = append(in.Channels, c)
		}
	}
	switch {
	case siteOnly && len(in.Channels) > 0:
		errs = append(errs, formError{"channels", "Choose channels to post to, or the residents' site and feeds only, not both"})
	case !siteOnly && len(in.Channels) == 0 && in.Category.Valid():
		defaults, err := s.deps.Desk.CategoryChannels(r.Context())
		if err != nil {
			return in, siteOnly, errs, err
		}
		in.Channels = defaults[in.Category]
	}
	return in, siteOnly, errs, nil
}

func hasField(errs []formError, prefix string) bool {
	for _, e := range errs {
		if strings.HasPrefix(e.Field, prefix) {
			return true
		}
	}
	return false
}

// showCompose renders the compose form, with errors when there are any.
func (s *Server) showCompose(w http.ResponseWriter, r *http.Request, status int, v composeView) {
	for _, e := range v.Errors {
		if _, ok := v.Field[e.Field]; !ok {
			v.Field[e.Field] = e.Message
		}
	}
	title := "Write a notice"
	switch {
	case v.ItemID != 0:
		title = "Change draft"
	case v.Action == string(workflow.Update):
		title = "Write an update"
	}
	s.staffPage(w, r, status, "staff_compose", &page{Title: title, Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: "/staff/notices", Data: v})
}

// handleComposeForm serves GET /staff/notices/new, and with ?notice=ID the
// form for an update of a published notice, filled with its content.
func (s *Server) handleComposeForm() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		var in signpost.NoticeInput
		action, noticeID := workflow.Create, int64(0)
		if raw := r.URL.Query().Get("notice"); raw != "" {
			id, err := parseNoticeID(raw)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			n, err := s.deps.Notices.Notice(r.Context(), id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			in, action, noticeID = publish.InputOf(n), workflow.Update, id
		}
		// An update of a notice that went to no channel keeps it so.
		v, err := s.newComposeView(r.Context(), in, action == workflow.Update)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Action, v.NoticeID, v.FormAction = string(action), noticeID, "/staff/notices"
		s.showCompose(w, r, http.StatusOK, v)
	})
}

// handleCreateItem serves POST /staff/notices: a new draft.
func (s *Server) handleCreateItem() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		in, siteOnly, errs, err := s.readNoticeForm(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		action := workflow.Create
		var noticeID int64
		if r.PostFormValue("action") == string(workflow.Update) {
			action = workflow.Update
			id, err := parseNoticeID(r.PostFormValue("notice_id"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			noticeID = id
		}
		var it workflow.Item
		if len(errs) == 0 {
			it, err = s.deps.Desk.Create(r.Context(), actorFrom(r), action, noticeID, in)
			errs = userErrors(err, "headline")
		}
		if len(errs) > 0 {
			if err != nil && len(errs) == 0 {
				s.fail(w, r, err)
				return
			}
			v, verr := s.newComposeView(r.Context(), in, siteOnly)
			if verr != nil {
				s.fail(w, r, verr)
				return
			}
			v.Action, v.NoticeID, v.FormAction, v.Errors = string(action), noticeID, "/staff/notices", errs
			s.showCompose(w, r, formStatus(err), v)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, itemPath(it.ID)+"?done=saved", http.StatusSeeOther)
	})
}

// userErrors turns a refusal the person can act on into a form error
// (shown on field); anything else is left for s.fail.
func userErrors(err error, field string) []formError {
	switch signpost.ErrorCode(err) {
	case signpost.EINVALID, signpost.ECONFLICT, signpost.EFORBIDDEN:
		return []formError{{field, signpost.ErrorMessage(err)}}
	}
	return nil
}

func formStatus(err error) int {
	if err == nil {
		return http.StatusBadRequest
	}
	return httpStatus(signpost.ErrorCode(err))
}

func itemPath(id int64) string { return "/staff/notices/drafts/" + strconv.FormatInt(id, 10) }

func (s *Server) itemFromPath(w http.ResponseWriter, r *http.Request) (workflow.Item, bool) {
	id, err := parseNoticeID(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, signpost.Errorf(signpost.ENOTFOUND, "There is no such draft."))
		return workflow.Item{}, false
	}
	it, err := s.deps.Desk.Item(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return workflow.Item{}, false
	}
	return it, true
}

// handleEditForm serves GET /staff/notices/drafts/{id}/edit.
func (s *Server) handleEditForm() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		it, ok := s.itemFromPath(w, r)
		if !ok {
			return
		}
		v, err := s.newComposeView(r.Context(), it.Content, true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Action, v.NoticeID, v.ItemID, v.Version, v.FormAction = string(it.Action), it.NoticeID, it.ID, it.Version, itemPath(it.ID)
		s.showCompose(w, r, http.StatusOK, v)
	})
}

// handleEditItem serves POST /staff/notices/drafts/{id}: save changes.
func (s *Server) handleEditItem() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		it, ok := s.itemFromPath(w, r)
		if !ok {
			return
		}
		in, siteOnly, errs, err := s.readNoticeForm(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		if len(errs) == 0 {
			_, err = s.deps.Desk.Edit(r.Context(), actorFrom(r), it.ID, version, in)
			errs = userErrors(err, "headline")
			if err != nil && errs == nil {
				s.fail(w, r, err)
				return
			}
		}
		if len(errs) > 0 {
			v, verr := s.newComposeView(r.Context(), in, siteOnly)
			if verr != nil {
				s.fail(w, r, verr)
				return
			}
			v.Action, v.NoticeID, v.ItemID, v.Version, v.FormAction, v.Errors = string(it.Action), it.NoticeID, it.ID, version, itemPath(it.ID), errs
			s.showCompose(w, r, formStatus(err), v)
			return
		}
		http.Redirect(w, r, itemPath(it.ID)+"?done=saved", http.StatusSeeOther)
	})
}

// --- one item ---

type previewPart struct {
	Text   string
	Length int
}

type previewView struct {
	Network string
	Limit   int
	Unit    string
	Parts   []previewPart
	Outcome string
}

type itemView struct {
	Item        workflow.Item
	Author      string
	Approver    string
	Reviewer    string
	StateTag    string
	Places      []link
	Check       checkView
	Reasons     []string
	Previews    []previewView
	Own         bool
	CanWrite    bool
	CanApprove  bool
	Done        string
	Errors      []formError
	Field       fieldErrors
	Comment     string
	ScheduleAt  string
	UrgentOK    bool
	UrgentWhy   string
	NeedsReview bool
}

var doneMessages = map[string]string{
	"saved":       "Draft saved. Check the risks below before you go on.",
	"submitted":   "Submitted for approval.",
	"approved":    "Approved. The author or an approver can now publish it.",
	"returned":    "Returned to the author with your comment.",
	"published":   "Published. Residents can see it now.",
	"urgent":      "Published urgently. An approver will review it.",
	"scheduled":   "Scheduled.",
	"unscheduled": "No longer scheduled.",
	"reviewed":    "Marked as reviewed.",
	"withdrawn":   "Withdrawn. It will not be published.",
	"closed":      "Closed. Residents see that the disruption is over.",
}

// handleItem serves GET /staff/notices/drafts/{id}: the item, its risks,
// its previews and what can be done next.
func (s *Server) handleItem() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		it, ok := s.itemFromPath(w, r)
		if !ok {
			return
		}
		s.showItem(w, r, http.StatusOK, it, nil, "")
	})
}

func (s *Server) showItem(w http.ResponseWriter, r *http.Request, status int, it workflow.Item, errs []formError, comment string) {
	ctx := r.Context()
	settings, err := s.deps.Desk.Settings(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, err := s.deps.Desk.StaffNames(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me := actorFrom(r)
	v := itemView{Item: it, Author: names[it.AuthorID], Approver: names[it.ApproverID], Reviewer: names[it.ReviewerID],
		StateTag: stateTag(it.State), Own: me.ID == it.AuthorID, CanWrite: me.Role.AtLeast(workflow.Author),
		CanApprove: me.Role.AtLeast(workflow.Approver), Done: doneMessages[r.URL.Query().Get("done")], Errors: errs,
		Field: fieldErrors{}, Comment: comment, NeedsReview: it.Review == workflow.ReviewPending}
	for _, e := range errs {
		v.Field[e.Field] = e.Message
	}
	if snap, err := s.current(ctx); err == nil {
		for _, p := range it.Content.Places {
			v.Places = append(v.Places, snap.placeLink(p))
		}
	}
	if it.Action == workflow.Create || it.Action == workflow.Update {
		a := s.deps.Desk.Assess(settings, it.Content)
		v.Check = checkView{Text: a.Text, PreElection: a.PreElection}
		v.Check.fill(a.Report)
		v.Reasons = a.Requirement.Reasons
		candidate := it
		candidate.Risk = a.Report.Level
		if err := workflow.UrgentAllowed(candidate, a.Requirement, settings); err != nil {
			v.UrgentWhy = signpost.ErrorMessage(err)
		} else {
			v.UrgentOK = true
		}
		v.Previews = s.previews(it)
	}
	s.staffPage(w, r, status, "staff_item", &page{Title: itemTitle(it), Error: len(errs) > 0, Staff: staffFrom(r), StaffPath: "/staff/notices", Data: v})
}

func itemTitle(it workflow.Item) string {
	switch it.Action {
	case workflow.Update:
		return "Update to notice " + strconv.FormatInt(it.NoticeID, 10)
	case workflow.Close:
		return "Closing notice " + strconv.FormatInt(it.NoticeID, 10)
	case workflow.Retract:
		return "Retraction of notice " + strconv.FormatInt(it.NoticeID, 10)
	}
	return "Draft notice"
}

// previews renders the item for each network as its channel will post it.
func (s *Server) previews(it workflow.Item) []previewView {
	link := s.cfg.BaseURL + "/notices/"
	if it.NoticeID != 0 {
		link += strconv.FormatInt(it.NoticeID, 10)
	} else {
		link += "000000" // the real id is known once published; every link counts alike on X and Mastodon
	}
	in := render.Input{English: render.Text{Headline: it.Content.Headline, Body: it.Content.Body}, Link: link, Category: it.Content.Category}
	var out []previewView
	for _, n := range []struct {
		name string
		t    channel.Type
		unit string
	}{{"X", channel.X, "characters (links count as 23)"}, {"Bluesky", channel.Bluesky, "graphemes"}, {"Mastodon", channel.Mastodon, "characters (links count as 23)"}, {"Facebook", channel.Facebook, "characters"}} {
		lim := render.LimitFor(n.t)
		pv := previewView{Network: n.name, Limit: lim.Max, Unit: n.unit}
		post, err := render.Render(in, render.Options{Limit: lim, Overflow: render.Thread})
		if err != nil {
			pv.Outcome = "Cannot be posted here: " + err.Error()
			out = append(out, pv)
			continue
		}
		for _, p := range post.Parts {
			pv.Parts = append(pv.Parts, previewPart{Text: p, Length: render.Length(p, lim)})
		}
		whole := render.Length(strings.TrimSpace(it.Content.Headline+"\n\n"+it.Content.Body), lim)
		switch {
		case len(post.Parts) > 1:
			pv.Outcome = fmt.Sprintf("Too long for one post: it will go out as a thread of %d posts.", len(post.Parts))
		case strings.Contains(post.Parts[0], "more:") && whole > lim.Max:
			pv.Outcome = "Too long: it will be cut short, ending with a link to the full notice."
		default:
			pv.Outcome = "Fits in one post."
		}
		out = append(out, pv)
	}
	return out
}

// itemOp serves POST /staff/notices/drafts/{id}/{op}: one workflow step.
// A refusal shows the item again with the reason in an error summary.
func (s *Server) itemOp(op workflow.Op) http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		it, ok := s.itemFromPath(w, r)
		if !ok {
			return
		}
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		ctx, me, d := r.Context(), actorFrom(r), s.deps.Desk
		var err error
		field, done := "actions", ""
		comment := r.PostFormValue("comment")
		switch op {
		case workflow.OpSubmit:
			_, err = d.Submit(ctx, me, it.ID, version)
			done = "submitted"
		case workflow.OpApprove:
			_, err = d.Approve(ctx, me, it.ID, version)
			done = "approved"
		case workflow.OpReturn:
			_, err = d.Return(ctx, me, it.ID, version, comment)
			field, done = "comment", "returned"
		case workflow.OpPublish:
			_, err = d.Publish(ctx, me, it.ID, version)
			done = "published"
		case workflow.OpUrgent:
			_, err = d.Urgent(ctx, me, it.ID, version)
			done = "urgent"
		case workflow.OpSchedule:
			field, done = "publish_at", "scheduled"
			at, perr := s.parseLocal(r.PostFormValue("publish_at"))
			if perr != nil {
				err = signpost.Errorf(signpost.EINVALID, "Enter the publishing time as a date and time, for example 2026-01-06 06:00")
			} else {
				_, err = d.Schedule(ctx, me, it.ID, version, at)
			}
		case workflow.OpUnschedule:
			_, err = d.Unschedule(ctx, me, it.ID, version)
			done = "unscheduled"
		case workflow.OpReview:
			_, err = d.Review(ctx, me, it.ID, version)
			done = "reviewed"
		case workflow.OpWithdraw:
			_, err = d.Withdraw(ctx, me, it.ID, version)
			done = "withdrawn"
		}
		if err != nil {
			errs := userErrors(err, field)
			if errs == nil {
				s.fail(w, r, err)
				return
			}
			if cur, rerr := d.Item(ctx, it.ID); rerr == nil {
				it = cur
			}
			s.showItem(w, r, httpStatus(signpost.ErrorCode(err)), it, errs, comment)
			return
		}
		http.Redirect(w, r, itemPath(it.ID)+"?done="+done, http.StatusSeeOther)
	})
}

// --- a published notice ---

type publishedView struct {
	Notice     signpost.Notice
	State      string
	StateTag   string
	Places     []link
	Revisions  []signpost.Notice
	Items      []itemRow
	CanWrite   bool
	CanRetract bool
	Done       string
	Errors     []formError
	Field      fieldErrors
	Reason     string
	// Deliveries are the current revision's, one per channel and action;
	// nil when delivery is not set up.
	Deliveries    []deliveryRow
	HasDelivery   bool // delivery is set up on this server
	AllDeliveries bool // may open every delivery of the notice
}

func publishedPath(id int64) string { return "/staff/notices/published/" + strconv.FormatInt(id, 10) }

// handlePublished serves GET /staff/notices/published/{id}.
func (s *Server) handlePublished() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		s.showPublished(w, r, http.StatusOK, nil, "")
	})
}

func (s *Server) showPublished(w http.ResponseWriter, r *http.Request, status int, errs []formError, reason string) {
	ctx := r.Context()
	id, err := parseNoticeID(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.deps.Notices.Notice(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	revs, err := s.deps.Notices.NoticeRevisions(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Revision > revs[j].Revision })
	items, err := s.deps.Desk.Items(ctx, publish.ItemFilter{NoticeID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, err := s.deps.Desk.StaffNames(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me := actorFrom(r)
	st, tag := noticeState(n)
	v := publishedView{Notice: n, State: st, StateTag: tag, Revisions: revs, CanWrite: me.Role.AtLeast(workflow.Author) && !n.Retracted(),
		CanRetract: me.Role.AtLeast(workflow.Approver) && !n.Retracted(), Done: doneMessages[r.URL.Query().Get("done")],
		Errors: errs, Field: fieldErrors{}, Reason: reason}
	if r.URL.Query().Get("done") == "retracted" {
		v.Done = "Retracted. Residents no longer see this notice; its page says it was withdrawn."
	}
	for _, e := range errs {
		v.Field[e.Field] = e.Message
	}
	if snap, err := s.current(ctx); err == nil {
		for _, p := range n.Places {
			v.Places = append(v.Places, snap.placeLink(p))
		}
	}
	for _, it := range items {
		v.Items = append(v.Items, itemRow{Item: it, Author: names[it.AuthorID], When: it.UpdatedAt, StateTag: stateTag(it.State), RiskTag: severityTag(it.Risk)})
	}
	if s.deps.Deliveries != nil {
		u, _, _ := auth.FromContext(ctx)
		v.HasDelivery, v.AllDeliveries = true, u.Role.Can(auth.Deliveries)
		// A revision has a delivery per channel (two where an update
		// also deletes from a channel it dropped); 100 is plenty.
		list, err := s.deps.Deliveries.List(ctx, store.DeliveryFilter{NoticeID: id, Limit: 100})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, e := range list.Entries {
			if e.Revision == n.Revision {
				v.Deliveries = append(v.Deliveries, newDeliveryRow(e))
			}
		}
		sort.Slice(v.Deliveries, func(i, j int) bool { return v.Deliveries[i].Channel < v.Deliveries[j].Channel })
	}
	s.staffPage(w, r, status, "staff_published", &page{Title: "Notice " + strconv.FormatInt(n.ID, 10) + ": " + n.Headline, Error: len(errs) > 0, Staff: staffFrom(r), StaffPath: "/staff/notices", Data: v})
}

// handleCloseNotice serves POST /staff/notices/published/{id}/close: a
// close item, published at once when the rules allow, otherwise submitted
// for approval.
func (s *Server) handleCloseNotice() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseNoticeID(r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ctx, me := r.Context(), actorFrom(r)
		it, err := s.deps.Desk.Create(ctx, me, workflow.Close, id, signpost.NoticeInput{})
		if err == nil {
			if it.NeedsApproval {
				_, err = s.deps.Desk.Submit(ctx, me, it.ID, it.Version)
				if err == nil {
					http.Redirect(w, r, itemPath(it.ID)+"?done=submitted", http.StatusSeeOther)
					return
				}
			} else {
				_, err = s.deps.Desk.Publish(ctx, me, it.ID, it.Version)
			}
		}
		if errs := userErrors(err, "close"); errs != nil {
			s.showPublished(w, r, httpStatus(signpost.ErrorCode(err)), errs, "")
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, publishedPath(id)+"?done=closed", http.StatusSeeOther)
	})
}

// handleRetractNotice serves POST /staff/notices/published/{id}/retract.
func (s *Server) handleRetractNotice() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseNoticeID(r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reason := r.PostFormValue("reason")
		_, err = s.deps.Desk.Retract(r.Context(), actorFrom(r), id, reason)
		if errs := userErrors(err, "reason"); errs != nil {
			s.showPublished(w, r, httpStatus(signpost.ErrorCode(err)), errs, reason)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, publishedPath(id)+"?done=retracted", http.StatusSeeOther)
	})
}

// --- settings ---

type settingsView struct {
	ApprovalFrom  string
	UrgentEnabled bool
	From, To      string
	PoliticalRole string
	Levels        []string
	Saved         bool
	Errors        []formError
	Field         fieldErrors
}

func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// handleSettings serves GET and POST /staff/settings/workflow.
func (s *Server) handleSettings() http.Handler {
	return s.needDesk(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		cur, err := s.deps.Desk.Settings(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := settingsView{ApprovalFrom: cur.ApprovalFrom.String(), UrgentEnabled: cur.UrgentEnabled, From: dateValue(cur.PreElectionFrom),
			To: dateValue(cur.PreElectionTo), PoliticalRole: string(cur.PoliticalRole), Levels: []string{"none", "low", "medium", "high"},
			Saved: r.URL.Query().Has("saved"), Field: fieldErrors{}}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			v.ApprovalFrom, v.UrgentEnabled = r.PostFormValue("approval_from"), r.PostFormValue("urgent_enabled") != ""
			v.From, v.To = strings.TrimSpace(r.PostFormValue("pre_election_from")), strings.TrimSpace(r.PostFormValue("pre_election_to"))
			v.PoliticalRole = r.PostFormValue("political_role")
			next := workflow.Settings{UrgentEnabled: v.UrgentEnabled, PoliticalRole: workflow.Role(v.PoliticalRole)}
			var perr error
			if next.ApprovalFrom, perr = risk.ParseSeverity(v.ApprovalFrom); perr != nil {
				v.Errors = append(v.Errors, formError{"approval_from", "Select when a second person must approve"})
			}
			for _, d := range []struct {
				field, raw, label string
				dst               **time.Time
			}{{"pre_election_from", v.From, "first", &next.PreElectionFrom}, {"pre_election_to", v.To, "last", &next.PreElectionTo}} {
				if d.raw == "" {
					continue
				}
				t, perr := time.Parse(time.DateOnly, d.raw)
				if perr != nil {
					v.Errors = append(v.Errors, formError{d.field, "Enter the " + d.label + " day as a date, for example 2026-03-23"})
					continue
				}
				*d.dst = &t
			}
			if len(v.Errors) == 0 {
				err = s.deps.Desk.SaveSettings(ctx, actorFrom(r), next)
				if err == nil {
					http.Redirect(w, r, "/staff/settings/workflow?saved", http.StatusSeeOther)
					return
				}
				if v.Errors = userErrors(err, "pre_election_from"); v.Errors == nil {
					s.fail(w, r, err)
					return
				}
			}
			status = formStatus(err)
			for _, e := range v.Errors {
				v.Field[e.Field] = e.Message
			}
		}
		s.staffPage(w, r, status, "staff_settings", &page{Title: "Publishing rules", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: "/staff/settings/workflow", Data: v})
	})
}

// preElectionNow reports whether the pre-election period is on, for the
// banner and the screener; false when there is no workflow or it cannot
// be read (the banner is a reminder, not a control).
func (s *Server) preElectionNow(ctx context.Context) bool {
	if s.deps.Desk == nil {
		return false
	}
	on, err := s.deps.Desk.PreElection(ctx)
	if err != nil {
		s.log.Warn("read pre-election period", "err", err)
	}
	return on
}
