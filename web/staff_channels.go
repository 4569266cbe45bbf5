package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/manage"
)

// ChannelAdmin is what the channels pages need of *manage.Service. It
// never hands out a channel's credential.
type ChannelAdmin interface {
	Channels(ctx context.Context) ([]manage.Channel, error)
	Channel(ctx context.Context, name string) (manage.Channel, error)
	Unhealthy(ctx context.Context) ([]string, error)
	Pending(ctx context.Context, name string) (int, error)
	Add(ctx context.Context, actor string, nc manage.NewChannel) (manage.Added, error)
	Test(ctx context.Context, actor, name string) (manage.Result, error)
	SetCategories(ctx context.Context, actor, name string, cats []signpost.Category) error
	Remove(ctx context.Context, actor, name string) (int, error)
	ReplaceCredentials(ctx context.Context, actor, name string, values map[string]string) (manage.Result, error)
}

const channelsPath = "/staff/admin/channels"

// channelsView is the list of channels and the first step of adding one.
type channelsView struct {
	Channels []manage.Channel
	Types    []channel.Type
	Done     string
	Errors   formErrors
}

// channelFormView is the form to add a channel of one type.
type channelFormView struct {
	Type       channel.Type
	Name       string
	Fields     []fieldView
	Categories []categoryView
	Errors     formErrors
}

// fieldView is one input of the add form; a credential is never filled
// back in.
type fieldView struct {
	manage.Field
	ID, Value, Error string
	Secret           bool
}

type categoryView struct {
	Value   signpost.Category
	ID      string
	Checked bool
}

// channelView is one channel's page.
type channelView struct {
	Channel    manage.Channel
	Categories []categoryView
	Done       string
	// Secret is a webhook signing secret Signpost just made: shown on
	// this response only.
	Secret string
	Test   *manage.Result
	// Credentials are the inputs of the form that replaces them.
	Credentials []fieldView
	Errors      formErrors
}

type channelRemoveView struct {
	Channel manage.Channel
	Pending int
}

var channelDone = map[string]string{
	"added":      "The channel was added. Test it to check its credentials work.",
	"categories": "The default categories were saved. New notices in them go to this channel unless their author chooses otherwise.",
	// After replacing credentials, by the outcome of the check that
	// follows (see credentialsDone).
	"credentials":           "The credentials were replaced and the check passed: the channel works. Nothing was posted.",
	"credentials-failed":    "The credentials were replaced, but the network refused them: the channel is marked as not working. Check them and replace them again.",
	"credentials-unchecked": "The credentials were replaced. The network did not give a clear answer to the check (it timed out or asked to wait), so nothing was recorded: test the channel later.",
}

// credentialsDone names the banner for a check's outcome.
func credentialsDone(res manage.Result) string {
	switch {
	case res.Healthy:
		return "credentials"
	case res.Recorded:
		return "credentials-failed"
	}
	return "credentials-unchecked"
}

// fieldID is the form input's id for a manage field or problem.
func fieldID(name string) string { return strings.ReplaceAll(name, "_", "-") }

func newFieldView(f manage.Field, errs formErrors) fieldView {
	return fieldView{Field: f, ID: fieldID(f.Name), Secret: f.Secret(), Error: errs.For(fieldID(f.Name))}
}

func categoryViews(checked []signpost.Category) []categoryView {
	out := make([]categoryView, len(signpost.Categories))
	for i, c := range signpost.Categories {
		id := "categories"
		if i > 0 {
			id += "-" + string(c)
		}
		out[i] = categoryView{Value: c, ID: id, Checked: slices.Contains(checked, c)}
	}
	return out
}

func formCategories(r *http.Request) []signpost.Category {
	var out []signpost.Category
	for _, c := range r.PostForm["categories"] {
		out = append(out, signpost.Category(c))
	}
	return out
}

// problemErrors turns manage's problems into the form's, by input id.
func problemErrors(err error) (formErrors, bool) {
	var ps manage.Problems
	if !errors.As(err, &ps) {
		return nil, false
	}
	out := make(formErrors, len(ps))
	for i, p := range ps {
		out[i] = formError{fieldID(p.Field), p.Message}
	}
	return out, true
}

func (s *Server) channelAdmin(w http.ResponseWriter, r *http.Request) (ChannelAdmin, bool) {
	if s.deps.Channels == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "Channels are not set up on this server.")
		return nil, false
	}
	return s.deps.Channels, true
}

// handleChannels serves GET /staff/admin/channels: every channel with its
// health, and the choice of type that starts adding one.
func (s *Server) handleChannels() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		v := channelsView{Types: channel.Types}
		if name := r.URL.Query().Get("removed"); name != "" {
			v.Done = "The channel " + name + " was removed. Its pending deliveries will not be made."
		}
		s.showChannels(w, r, ca, http.StatusOK, &v)
	})
}

func (s *Server) showChannels(w http.ResponseWriter, r *http.Request, ca ChannelAdmin, status int, v *channelsView) {
	cs, err := ca.Channels(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Channels = cs
	s.staffPage(w, r, status, "staff_channels", &page{Title: "Channels", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: channelsPath, Data: v})
}

// handleChannelNew serves GET /staff/admin/channels/new?type=…: the form
// for that type, or the list again asking for a type.
func (s *Server) handleChannelNew() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		typ := channel.Type(r.URL.Query().Get("type"))
		if !typ.Valid() {
			s.showChannels(w, r, ca, http.StatusBadRequest, &channelsView{Types: channel.Types, Errors: formErrors{{"type", "Choose the kind of channel to add"}}})
			return
		}
		s.showChannelForm(w, r, http.StatusOK, typ, manage.NewChannel{}, nil)
	})
}

func (s *Server) showChannelForm(w http.ResponseWriter, r *http.Request, status int, typ channel.Type, nc manage.NewChannel, errs formErrors) {
	v := channelFormView{Type: typ, Name: nc.Name, Categories: categoryViews(nc.Categories), Errors: errs}
	for _, f := range manage.Fields(typ) {
		fv := newFieldView(f, errs)
		if !fv.Secret {
			fv.Value = nc.Settings[f.Name]
		}
		v.Fields = append(v.Fields, fv)
	}
	s.staffPage(w, r, status, "staff_channel_new", &page{Title: "Add a " + string(typ) + " channel", Error: len(errs) > 0, Staff: staffFrom(r), StaffPath: channelsPath, Data: &v})
}

// handleChannelAdd serves POST /staff/admin/channels: add a channel.
func (s *Server) handleChannelAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		typ := channel.Type(r.PostFormValue("type"))
		if !typ.Valid() {
			s.showChannels(w, r, ca, http.StatusBadRequest, &channelsView{Types: channel.Types, Errors: formErrors{{"type", "Choose the kind of channel to add"}}})
			return
		}
		nc := manage.NewChannel{Name: strings.TrimSpace(r.PostFormValue("name")), Type: typ, Token: r.PostFormValue(manage.TokenField),
			Settings: map[string]string{}, Categories: formCategories(r)}
		for _, f := range manage.Fields(typ) {
			if f.Name != manage.TokenField {
				nc.Settings[f.Name] = strings.TrimSpace(r.PostFormValue(f.Name))
			}
		}
		u, _, _ := auth.FromContext(r.Context())
		added, err := ca.Add(r.Context(), u.Actor(), nc)
		if errs, ok := problemErrors(err); ok {
			s.showChannelForm(w, r, http.StatusBadRequest, typ, nc, errs)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if added.Secret == "" {
			http.Redirect(w, r, channelsPath+"/"+url.PathEscape(added.Channel.Name)+"?done=added", http.StatusSeeOther)
			return
		}
		// The generated secret cannot survive a redirect without being
		// stored in clear, so this response shows it, once.
		s.showChannel(w, r, http.StatusOK, &channelView{Channel: added.Channel, Done: channelDone["added"], Secret: added.Secret})
	})
}

// showNamedChannel reads a channel and shows its page with v.
func (s *Server) showNamedChannel(w http.ResponseWriter, r *http.Request, ca ChannelAdmin, name string, status int, v *channelView) {
	c, err := ca.Channel(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Channel = c
	s.showChannel(w, r, status, v)
}

func (s *Server) showChannel(w http.ResponseWriter, r *http.Request, status int, v *channelView) {
	v.Categories = categoryViews(v.Channel.Categories)
	for _, f := range manage.SecretFields(v.Channel.Type) {
		v.Credentials = append(v.Credentials, newFieldView(f, v.Errors))
	}
	s.staffPage(w, r, status, "staff_channel", &page{Title: "Channel " + v.Channel.Name, Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: channelsPath, Data: v})
}

// handleChannel serves GET /staff/admin/channels/{name}.
func (s *Server) handleChannel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		s.showNamedChannel(w, r, ca, r.PathValue("name"), http.StatusOK, &channelView{Done: channelDone[r.URL.Query().Get("done")]})
	})
}

// handleChannelTest serves POST /staff/admin/channels/{name}/test: run the
// channel's health check now and show the outcome.
func (s *Server) handleChannelTest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		u, _, _ := auth.FromContext(r.Context())
		name := r.PathValue("name")
		res, err := ca.Test(r.Context(), u.Actor(), name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.showNamedChannel(w, r, ca, name, http.StatusOK, &channelView{Test: &res})
	})
}

// handleChannelCategories serves POST …/{name}/categories.
func (s *Server) handleChannelCategories() http.Handler {
	return s.channelChange(func(r *http.Request, ca ChannelAdmin, actor, name string) (string, error) {
		return "categories", ca.SetCategories(r.Context(), actor, name, formCategories(r))
	})
}

// handleChannelCredentials serves POST …/{name}/credentials: replace the
// channel's credentials, check them, and say how the check went.
func (s *Server) handleChannelCredentials() http.Handler {
	return s.channelChange(func(r *http.Request, ca ChannelAdmin, actor, name string) (string, error) {
		values := map[string]string{}
		for k, vs := range r.PostForm {
			if k != auth.CSRFField && len(vs) > 0 {
				values[k] = vs[0]
			}
		}
		res, err := ca.ReplaceCredentials(r.Context(), actor, name, values)
		return credentialsDone(res), err
	})
}

// channelChange serves a form on a channel's page: change returns the
// banner to show (a channelDone key) after the redirect back, or Problems
// to show on the page beside their inputs.
func (s *Server) channelChange(change func(r *http.Request, ca ChannelAdmin, actor, name string) (done string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		u, _, _ := auth.FromContext(r.Context())
		name := r.PathValue("name")
		done, err := change(r, ca, u.Actor(), name)
		if errs, ok := problemErrors(err); ok {
			s.showNamedChannel(w, r, ca, name, http.StatusBadRequest, &channelView{Errors: errs})
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, channelsPath+"/"+url.PathEscape(name)+"?done="+done, http.StatusSeeOther)
	})
}

// handleChannelRemove serves GET …/{name}/remove (what removing will do,
// and the button) and POST (remove it).
func (s *Server) handleChannelRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca, ok := s.channelAdmin(w, r)
		if !ok {
			return
		}
		name := r.PathValue("name")
		if r.Method == http.MethodPost {
			u, _, _ := auth.FromContext(r.Context())
			if _, err := ca.Remove(r.Context(), u.Actor(), name); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, channelsPath+"?removed="+url.QueryEscape(name), http.StatusSeeOther)
			return
		}
		c, err := ca.Channel(r.Context(), name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pending, err := ca.Pending(r.Context(), name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.staffPage(w, r, http.StatusOK, "staff_channel_remove", &page{Title: "Remove channel " + c.Name, Staff: staffFrom(r), StaffPath: channelsPath,
			Data: &channelRemoveView{Channel: c, Pending: pending}})
	})
}

// unhealthyChannels names the channels that have stopped working, for the
// banner on every staff page of those who publish (approvers) or fix
// channels (admins).
func (s *Server) unhealthyChannels(r *http.Request) []string {
	u, _, ok := auth.FromContext(r.Context())
	if !ok || s.deps.Channels == nil || !u.Role.AtLeast(auth.Approver) {
		return nil
	}
	names, err := s.deps.Channels.Unhealthy(r.Context())
	if err != nil {
		s.log.Warn("read unhealthy channels", "err", err)
	}
	return names
}
