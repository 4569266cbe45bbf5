package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/costbook"
	"github.com/signpost-uk/signpost/shift"
)

// CostBook is what the costs page needs of *costbook.Book.
type CostBook interface {
	Costs(ctx context.Context) ([]shift.Cost, error)
	Add(ctx context.Context, actor string, c shift.Cost) error
}

const costsPath = "/staff/admin/costs"

// costsView is the costs page's data.
type costsView struct {
	Costs    []shift.Cost
	Defaults []shift.Cost
	Done     bool
	Errors   formErrors
	// The add form as typed.
	Channel, EffectiveFrom, FullyLoaded, Marginal, Source string
}

// formFields names the form's inputs by the fields costbook.Check
// reports, so each problem links to its input.
var costFormFields = map[string]string{"channel": "channel", "effective_from": "effective-from", "fully_loaded": "fully-loaded", "marginal": "marginal", "source": "source"}

// parsePounds reads an amount as people type it: "2.90", "£2.90", "2".
// NaN stands for something that is not an amount.
func parsePounds(s string) float64 {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "£"))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eExXpPnN_") {
		return math.NaN()
	}
	return f
}

// handleCosts serves GET /staff/admin/costs (every cost recorded, and the
// form to add one) and POST (add one). Costs are versioned by the date
// they take effect; a changed figure is a new row, never an edit.
func (s *Server) handleCosts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Costs == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Channel costs are not set up on this server.")
			return
		}
		v := costsView{Defaults: shift.DefaultCosts(), Done: r.URL.Query().Has("added")}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			g := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
			v.Channel, v.EffectiveFrom, v.FullyLoaded, v.Marginal, v.Source = strings.ToLower(g("channel")), g("effective_from"), g("fully_loaded"), g("marginal"), g("source")
			c := shift.Cost{Channel: v.Channel, FullyLoaded: parsePounds(v.FullyLoaded), Source: v.Source}
			if v.Marginal != "" {
				m := parsePounds(v.Marginal)
				c.Marginal = &m
			}
			var dateErr string
			if v.EffectiveFrom != "" {
				// Costs are calendar dates, not instants: read in UTC as the
				// shift tables store them.
				d, err := archive.ParseDay("The date it takes effect", v.EffectiveFrom, time.UTC)
				if err != nil {
					dateErr = signpost.ErrorMessage(err)
				}
				c.EffectiveFrom = d
			}
			for _, p := range costbook.Check(c) {
				msg := p.Message
				if p.Field == "effective_from" && dateErr != "" {
					msg = dateErr
				}
				v.Errors = append(v.Errors, formError{costFormFields[p.Field], msg})
			}
			if len(v.Errors) == 0 {
				u, _, _ := auth.FromContext(r.Context())
				err := s.deps.Costs.Add(r.Context(), u.Actor(), c)
				switch signpost.ErrorCode(err) {
				case "":
					http.Redirect(w, r, costsPath+"?added", http.StatusSeeOther)
					return
				case signpost.EINVALID, signpost.ECONFLICT:
					v.Errors = append(v.Errors, formError{"effective-from", upperFirst(signpost.ErrorMessage(err))})
				default:
					s.fail(w, r, err)
					return
				}
			}
			status = http.StatusBadRequest
		}
		costs, err := s.deps.Costs.Costs(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Costs = costs
		s.staffPage(w, r, status, "staff_costs", &page{Title: "Channel costs", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: costsPath, Data: &v})
	})
}
