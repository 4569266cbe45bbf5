package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/shift"
)

// ShiftSource is what the channel-shift dashboard reads; *store.DB
// provides it.
type ShiftSource interface {
	Campaigns(ctx context.Context) ([]shift.Campaign, error)
	ShiftData(ctx context.Context, from, to time.Time) (shift.Data, error)
	ChangeVersion(ctx context.Context) (int64, error)
}

// ShiftDashboardConfig configures NewShiftDashboard.
type ShiftDashboardConfig struct {
	// Prefix is the path the dashboard is mounted at, e.g. "/staff/shift".
	Prefix      string
	CouncilName string
	Options     shift.Options
	Logger      *slog.Logger
}

// NewShiftDashboard returns the staff dashboard for channel shift: the
// estimate for a campaign, charts of contacts by channel, actual against
// baseline calls, cumulative saving and channel mix, each an accessible SVG
// with its data table, filters by category and date range, a print
// stylesheet and a CSV download of every table. Mount it behind staff
// authentication:
//
//	mux.Handle("/staff/shift", dash)
//	mux.Handle("/staff/shift/", dash)
func NewShiftDashboard(src ShiftSource, cfg ShiftDashboardConfig) (http.Handler, error) {
	if src == nil {
		return nil, fmt.Errorf("web: shift dashboard needs a source")
	}
	cfg.Prefix = strings.TrimRight(cfg.Prefix, "/")
	if cfg.Prefix == "" {
		cfg.Prefix = "/staff/shift"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t, err := template.New("shift_dashboard.html").Funcs(template.FuncMap{
		"count": func(v float64) string { return formatThousands(v) },
		"money": func(v float64) string { return "£" + formatThousands(v) },
		"num1":  func(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) },
	}).ParseFS(templateFS, "templates/shift_dashboard.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse shift dashboard: %w", err)
	}
	d := &shiftDashboard{src: src, cfg: cfg, tmpl: t, cache: map[string]*shiftResult{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+cfg.Prefix, d.page)
	mux.HandleFunc("GET "+cfg.Prefix+"/{$}", d.page)
	mux.HandleFunc("GET "+cfg.Prefix+"/data.csv", d.csv)
	mux.HandleFunc("GET "+cfg.Prefix+"/print.css", d.printCSS)
	return mux, nil
}

type shiftDashboard struct {
	src  ShiftSource
	cfg  ShiftDashboardConfig
	tmpl *template.Template
	// cache keeps reports by query and store version: estimating takes a
	// few hundred milliseconds and the data change only on import.
	mu      sync.Mutex
	cache   map[string]*shiftResult
	version int64
}

// shiftResult is one estimate and the weekly history the charts show.
type shiftResult struct {
	rep      *shift.Report
	weeks    []weekRow // targeted categories, from a year before the campaign
	channels []string
	start    time.Time // campaign start, to split before from during
}

type weekRow struct {
	start  time.Time
	counts map[string]float64
}

// shiftQuery is the dashboard's filters.
type shiftQuery struct {
	Campaign string
	Category string // "" for every targeted category
	From, To string // YYYY-MM-DD limits on the evaluation period, or ""
}

func (q shiftQuery) values() string {
	v := []string{"campaign=" + urlEscape(q.Campaign)}
	if q.Category != "" {
		v = append(v, "category="+urlEscape(q.Category))
	}
	if q.From != "" {
		v = append(v, "from="+q.From)
	}
	if q.To != "" {
		v = append(v, "to="+q.To)
	}
	return strings.Join(v, "&")
}

func urlEscape(s string) string { return template.URLQueryEscaper(s) }

// report runs (or recalls) the estimate for q.
func (d *shiftDashboard) report(ctx context.Context, q shiftQuery, campaigns []shift.Campaign) (*shiftResult, error) {
	version, err := d.src.ChangeVersion(ctx)
	if err != nil {
		return nil, err
	}
	key := q.values()
	d.mu.Lock()
	if version != d.version {
		d.cache, d.version = map[string]*shiftResult{}, version
	}
	res, ok := d.cache[key]
	d.mu.Unlock()
	if ok {
		return res, nil
	}
	var camp shift.Campaign
	found := false
	for _, c := range campaigns {
		if c.Name == q.Campaign {
			camp, found = c, true
		}
	}
	if !found {
		return nil, signpost.Errorf(signpost.ENOTFOUND, "no campaign called %q", q.Campaign)
	}
	// Filters narrow the campaign: one category, or part of its dates.
	if q.Category != "" {
		if !slices.Contains(camp.Categories, q.Category) {
			return nil, signpost.Errorf(signpost.EINVALID, "campaign %q does not target %q", camp.Name, q.Category)
		}
		camp.Categories = []string{q.Category}
	}
	if q.From != "" {
		if t, err := time.Parse(time.DateOnly, q.From); err == nil && t.After(camp.Start) {
			camp.Start = t
		}
	}
	if q.To != "" {
		if t, err := time.Parse(time.DateOnly, q.To); err == nil && t.Before(camp.End) {
			camp.End = t
		}
	}
	if camp.End.Before(camp.Start) {
		return nil, signpost.Errorf(signpost.EINVALID, "the date range leaves no campaign days")
	}
	opt := d.cfg.Options
	days := opt.BaselineDays
	if days <= 0 {
		days = 1096
	}
	data, err := d.src.ShiftData(ctx, camp.Start.AddDate(0, 0, -days-7), camp.End)
	if err != nil {
		return nil, err
	}
	for i := range data.Campaigns {
		if data.Campaigns[i].Name == camp.Name {
			data.Campaigns[i] = camp
		}
	}
	rep, err := shift.Estimate(data, camp.Name, opt)
	if err != nil {
		return nil, err
	}
	res = &shiftResult{rep: rep, start: camp.Start}
	res.weeks, res.channels = weekly(data.Contacts, camp)
	d.mu.Lock()
	if len(d.cache) >= 64 {
		clear(d.cache)
	}
	d.cache[key] = res
	d.mu.Unlock()
	return res, nil
}

// weekly totals the targeted categories' contacts by channel per week
// (weeks start on Monday) from a year before the campaign to its end.
func weekly(contacts []shift.Contact, camp shift.Campaign) ([]weekRow, []string) {
	from := camp.Start.AddDate(-1, 0, 0)
	from = from.AddDate(0, 0, -((int(from.Weekday()) + 6) % 7))
	n := int(camp.End.Sub(from).Hours()/24)/7 + 1
	weeks := make([]weekRow, n)
	for i := range weeks {
		weeks[i] = weekRow{start: from.AddDate(0, 0, 7*i), counts: map[string]float64{}}
	}
	seen := map[string]bool{}
	for _, c := range contacts {
		if c.Date.Before(from) || c.Date.After(camp.End) || !slices.Contains(camp.Categories, c.Category) {
			continue
		}
		i := int(c.Date.Sub(from).Hours()/24) / 7
		weeks[i].counts[c.Channel] += float64(c.Count)
		seen[c.Channel] = true
	}
	var chans []string
	for ch := range seen {
		chans = append(chans, ch)
	}
	slices.Sort(chans)
	return weeks, chans
}

func (d *shiftDashboard) query(r *http.Request, campaigns []shift.Campaign) shiftQuery {
	q := shiftQuery{Campaign: r.URL.Query().Get("campaign"), Category: r.URL.Query().Get("category")}
	if q.Campaign == "" && len(campaigns) > 0 {
		q.Campaign = campaigns[len(campaigns)-1].Name
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err == nil {
				*p.dst = v
			}
		}
	}
	return q
}

func (d *shiftDashboard) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch signpost.ErrorCode(err) {
	case signpost.ENOTFOUND:
		status = http.StatusNotFound
	case signpost.EINVALID:
		status = http.StatusBadRequest
	default:
		d.cfg.Logger.Error("shift dashboard", "err", err)
	}
	http.Error(w, signpost.ErrorMessage(err), status)
}

// dashboardView is what shift_dashboard.html renders.
type dashboardView struct {
	Council    string
	Prefix     string
	Query      shiftQuery
	QueryStr   template.URL // the filters, already escaped for a link
	Campaigns  []shift.Campaign
	Categories []string
	Report     *shift.Report
	Summary    string
	Charts     []chartView
}

type chartView struct {
	ID, Title, Desc string
	SVG             template.HTML
	Table           tableView
	CSV             string // the table name for data.csv
}

type tableView struct {
	Caption string
	Head    []string
	Rows    [][]string
}

func (d *shiftDashboard) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	campaigns, err := d.src.Campaigns(ctx)
	if err != nil {
		d.fail(w, err)
		return
	}
	v := dashboardView{Council: d.cfg.CouncilName, Prefix: d.cfg.Prefix, Campaigns: campaigns}
	v.Query = d.query(r, campaigns)
	v.QueryStr = template.URL(v.Query.values())
	if len(campaigns) > 0 {
		res, err := d.report(ctx, v.Query, campaigns)
		if err != nil {
			d.fail(w, err)
			return
		}
		v.Report = res.rep
		v.Summary = shift.Summary(res.rep)
		for _, c := range campaigns {
			if c.Name == v.Query.Campaign {
				v.Categories = c.Categories
			}
		}
		for _, name := range chartNames() {
			v.Charts = append(v.Charts, buildChart(name, res))
		}
	}
	var buf bytes.Buffer
	if err := d.tmpl.Execute(&buf, v); err != nil {
		d.fail(w, fmt.Errorf("render shift dashboard: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}

// csv serves any of the dashboard's tables, or the whole report.
func (d *shiftDashboard) csv(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	campaigns, err := d.src.Campaigns(ctx)
	if err != nil {
		d.fail(w, err)
		return
	}
	q := d.query(r, campaigns)
	res, err := d.report(ctx, q, campaigns)
	if err != nil {
		d.fail(w, err)
		return
	}
	rep := res.rep
	name := r.URL.Query().Get("table")
	var buf bytes.Buffer
	switch {
	case name == "" || name == "report":
		err = shift.WriteCSV(&buf, rep)
		name = "report"
	case name == "daily":
		err = shift.WriteDailyCSV(&buf, rep)
	case slices.Contains(chartNames(), name):
		t := buildChart(name, res).Table
		cw := csv.NewWriter(&buf)
		cw.Write(t.Head)
		cw.WriteAll(t.Rows)
		err = cw.Error()
	default:
		d.fail(w, signpost.Errorf(signpost.EINVALID, "no table %q (want report, daily or one of %s)", name, strings.Join(chartNames(), ", ")))
		return
	}
	if err != nil {
		d.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("%s-%s.csv", safeName(rep.Campaign), name)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// printCSS hides the filters and downloads and keeps each chart with its
// table on one page, so "Print to PDF" gives a clean board paper. It is a
// file rather than inline styles because the site's CSP allows only 'self'.
func (d *shiftDashboard) printCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprint(w, `@media print {
  .govuk-header, .govuk-skip-link, .app-shift-filters, .app-shift-download, .govuk-footer { display: none !important; }
  body { font-size: 11pt; color: #000; background: #fff; }
  .govuk-width-container { max-width: none; margin: 0; }
  .app-shift-chart { break-inside: avoid; page-break-inside: avoid; }
  .app-shift-chart svg { max-width: 100%; height: auto; }
  table { font-size: 9pt; }
  a[href]::after { content: ""; }
}
.app-shift-chart svg { max-width: 100%; height: auto; }
.app-shift-grid { display: flex; flex-wrap: wrap; gap: 20px; }
.app-shift-grid > * { flex: 1 1 420px; min-width: 0; }
.app-shift-table { max-height: 420px; overflow: auto; }
`)
}

func formatThousands(v float64) string {
	neg := v < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg && s != "0" {
		return "−" + b.String()
	}
	return b.String()
}
