package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/store"
)

// DeliveryConsole is what the delivery pages need (a *delivery.Console).
type DeliveryConsole interface {
	List(ctx context.Context, f store.DeliveryFilter) (delivery.Listing, error)
	Retry(ctx context.Context, actor string, a delivery.Args) error
}

const (
	deliveriesPath    = "/staff/deliveries"
	deliveriesPerPage = 25
)

// accessDeliveries is who may see every delivery and retry failed ones.
var accessDeliveries = string(auth.Deliveries.MinRole())

// deliveryStates are the filter's choices, as staff read them.
var deliveryStates = []struct{ Value, Label string }{
	{store.DeliveryQueued, "Queued"},
	{store.DeliveryRetrying, "Retrying"},
	{store.DeliveryDelivered, "Delivered"},
	{store.DeliveryFailed, "Failed"},
	{store.DeliveryDiscarded, "Discarded"},
	{store.DeliverySkipped, "Superseded"},
}

func deliveryStateLabel(state string) string {
	for _, s := range deliveryStates {
		if s.Value == state {
			return s.Label
		}
	}
	return state
}

func deliveryStateTag(state string) string {
	switch state {
	case store.DeliveryDelivered:
		return "govuk-tag--green"
	case store.DeliveryRetrying:
		return "govuk-tag--yellow"
	case store.DeliveryFailed, store.DeliveryDiscarded:
		return "govuk-tag--red"
	case store.DeliveryQueued:
		return "govuk-tag--blue"
	}
	return "govuk-tag--grey"
}

// deliveryActionLabel names what a delivery does as staff think of it: a
// first post, an update, the "resumed" post on closing, or a deletion.
func deliveryActionLabel(action string, revision int) string {
	switch {
	case action == delivery.ActionPublish && revision > 1:
		return "update"
	case action == delivery.ActionClose:
		return "resumed"
	}
	return action
}

// urlQuery matches the query of an address in an error message, which may
// carry a token (a webhook's signed address, say).
var urlQuery = regexp.MustCompile(`(https?://[^\s?#"]+)[?#][^\s"]*`)

// shortError is a delivery's last error as the console shows it: its
// first line, addresses without their queries, at most 160 characters.
func shortError(msg string) string {
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	return truncateRunes(urlQuery.ReplaceAllString(msg, "$1?…"), 160)
}

// deliveryRow is one delivery in the table.
type deliveryRow struct {
	delivery.Entry
	ActionLabel, StateLabel, StateTag, Error string
}

func newDeliveryRow(e delivery.Entry) deliveryRow {
	return deliveryRow{Entry: e, ActionLabel: deliveryActionLabel(e.Action, e.Revision), StateLabel: deliveryStateLabel(e.State),
		StateTag: deliveryStateTag(e.State), Error: shortError(e.LastError)}
}

// deliveriesForm is the filter as typed, with its errors.
type deliveriesForm struct {
	Notice, Channel, State, From, To string
	NoticeError, FromError, ToError  string
}

func (f deliveriesForm) errors() []formError {
	var out []formError
	for _, e := range []formError{{"notice", f.NoticeError}, {"from", f.FromError}, {"to", f.ToError}} {
		if e.Message != "" {
			out = append(out, e)
		}
	}
	return out
}

// values is the filter as query parameters, for paging, retrying and
// coming back.
func (f deliveriesForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"notice": f.Notice, "channel": f.Channel, "state": f.State, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Query is the filter as a query string.
func (f deliveriesForm) Query() string { return f.values().Encode() }

// readDeliveriesForm reads and checks a filter. Dates are the council's
// calendar days.
func (s *Server) readDeliveriesForm(q url.Values) (deliveriesForm, store.DeliveryFilter) {
	g := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := deliveriesForm{Notice: g("notice"), Channel: g("channel"), State: g("state"), From: g("from"), To: g("to")}
	if !slices.Contains(store.DeliveryStates, f.State) {
		f.State = ""
	}
	filter := store.DeliveryFilter{Channel: f.Channel, State: f.State}
	if f.Notice != "" {
		id, err := strconv.ParseInt(f.Notice, 10, 64)
		if err != nil || id <= 0 {
			f.NoticeError = "Enter the notice's number, for example 12"
		}
		filter.NoticeID = id
	}
	filter.From, filter.To, f.FromError, f.ToError = s.readDays(f.From, f.To)
	return f, filter
}

// deliveriesView is the deliveries page's data.
type deliveriesView struct {
	Form       deliveriesForm
	Errors     []formError
	Channels   []string
	States     []struct{ Value, Label string }
	Rows       []deliveryRow
	Total      int
	Page       int
	Pages      int
	Prev, Next string
	Done       string
}

// handleDeliveries serves GET /staff/deliveries: every delivery of every
// notice to every channel, filtered and a page at a time.
func (s *Server) handleDeliveries() http.Handler {
	return s.needDeliveries(func(w http.ResponseWriter, r *http.Request) {
		done := ""
		if r.URL.Query().Get("done") == "retried" {
			done = "Queued again. The delivery will be tried in a moment; reload the page to see how it went."
		}
		s.showDeliveries(w, r, http.StatusOK, r.URL.Query(), done, nil)
	})
}

func (s *Server) showDeliveries(w http.ResponseWriter, r *http.Request, status int, q url.Values, done string, failed []formError) {
	ctx := r.Context()
	form, filter := s.readDeliveriesForm(q)
	v := &deliveriesView{Form: form, Errors: append(form.errors(), failed...), States: deliveryStates, Done: done}
	if s.deps.Desk != nil {
		names, err := s.deps.Desk.ChannelNames(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Channels = names
	}
	if form.Channel != "" && !slices.Contains(v.Channels, form.Channel) {
		// A channel removed since still has its deliveries.
		v.Channels = append(v.Channels, form.Channel)
	}
	pg := &page{Title: "Deliveries to channels", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: "/staff/notices", Data: v}
	if len(form.errors()) > 0 {
		s.staffPage(w, r, http.StatusBadRequest, "staff_deliveries", pg)
		return
	}
	n, _ := strconv.Atoi(q.Get("page"))
	v.Page = max(n, 1)
	filter.Limit, filter.Offset = deliveriesPerPage, (v.Page-1)*deliveriesPerPage
	list, err := s.deps.Deliveries.List(ctx, filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Total, v.Pages = list.Total, max((list.Total+deliveriesPerPage-1)/deliveriesPerPage, 1)
	for _, e := range list.Entries {
		v.Rows = append(v.Rows, newDeliveryRow(e))
	}
	link := func(p int) string {
		vals := form.values()
		vals.Set("page", strconv.Itoa(p))
		return deliveriesPath + "?" + vals.Encode()
	}
	if v.Page > 1 {
		v.Prev = link(min(v.Page-1, v.Pages))
	}
	if v.Page < v.Pages {
		v.Next = link(v.Page + 1)
	}
	s.staffPage(w, r, status, "staff_deliveries", pg)
}

// handleRetryDelivery serves POST /staff/deliveries/retry: a failed or
// discarded delivery goes back in the queue. A refusal (delivered already,
// superseded, still waiting) shows the list again with the reason.
func (s *Server) handleRetryDelivery() http.Handler {
	return s.needDeliveries(func(w http.ResponseWriter, r *http.Request) {
		back, _ := url.ParseQuery(r.PostFormValue("back"))
		form, _ := s.readDeliveriesForm(back)
		rev, _ := strconv.Atoi(r.PostFormValue("revision"))
		id, _ := strconv.ParseInt(r.PostFormValue("notice_id"), 10, 64)
		a := delivery.Args{NoticeID: id, Revision: rev, Channel: r.PostFormValue("channel"), Action: r.PostFormValue("action")}
		u, _, _ := auth.FromContext(r.Context())
		err := s.deps.Deliveries.Retry(r.Context(), u.Actor(), a)
		switch signpost.ErrorCode(err) {
		case "":
			vals := form.values()
			vals.Set("done", "retried")
			http.Redirect(w, r, deliveriesPath+"?"+vals.Encode(), http.StatusSeeOther)
		case signpost.ECONFLICT, signpost.EINVALID, signpost.ENOTFOUND:
			s.showDeliveries(w, r, httpStatus(signpost.ErrorCode(err)), form.values(), "", []formError{{"results", signpost.ErrorMessage(err)}})
		default:
			s.fail(w, r, err)
		}
	})
}

// needDeliveries answers 503 when the server has no delivery console.
func (s *Server) needDeliveries(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Deliveries == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Delivery to channels is not set up on this server.")
			return
		}
		h(w, r)
	})
}
