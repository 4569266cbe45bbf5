package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/store"
)

// seededDeliveries are the deliveries seedDeliveries makes that tests
// look at.
type seededDeliveries struct {
	total                     int
	delivered, failed, gaveUp delivery.Args
	gaveUpJob, firstNotice    int64
	waiting                   int64 // a notice whose deliveries wait in the queue
}

// seedDeliveries records a delivery of each current demo notice to two
// channels, as the dispatcher does, and moves three of them on: one
// delivered (with a post address), one failed for good with an error
// naming a signed address, and one the queue gave up on, whose River job
// is kept as River leaves it.
func seedDeliveries(t *testing.T, f *fixture) seededDeliveries {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{"masto", "bsky"} {
		if _, err := f.db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon"}); err != nil {
			t.Fatal(err)
		}
	}
	var sd seededDeliveries
	ns := f.srv.snap.Load().notices
	sd.delivered = delivery.Args{NoticeID: ns[0].ID, Revision: ns[0].Revision, Channel: "masto", Action: delivery.ActionPublish}
	sd.failed = delivery.Args{NoticeID: ns[0].ID, Revision: ns[0].Revision, Channel: "bsky", Action: delivery.ActionPublish}
	sd.gaveUp = delivery.Args{NoticeID: ns[1].ID, Revision: ns[1].Revision, Channel: "masto", Action: delivery.ActionPublish}
	err := f.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		for _, n := range ns {
			var rows []store.DeliveryJob
			var params []river.InsertManyParams
			for _, ch := range []string{"masto", "bsky"} {
				a := delivery.Args{NoticeID: n.ID, Revision: n.Revision, Channel: ch, Action: delivery.ActionPublish}
				rows = append(rows, store.DeliveryJob{NoticeID: a.NoticeID, Revision: a.Revision, Channel: a.Channel, Action: a.Action})
				// The delivered job is done and the failed one's job
				// was since removed by River.
				if a != sd.delivered && a != sd.failed {
					params = append(params, river.InsertManyParams{Args: a})
				}
			}
			if err := tx.MarkDispatched(ctx, n.ID, n.Revision, rows); err != nil {
				return err
			}
			sd.total += len(rows)
			if len(params) == 0 {
				continue
			}
			res, err := f.queue.InsertManyTx(ctx, tx, params)
			if err != nil {
				return err
			}
			for _, r := range res {
				if n.ID == sd.gaveUp.NoticeID {
					var a delivery.Args
					if json.Unmarshal(r.Job.EncodedArgs, &a) == nil && a == sd.gaveUp {
						sd.gaveUpJob = r.Job.ID
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sd.firstNotice, sd.waiting = ns[0].ID, ns[2].ID
	receipt, _ := json.Marshal(map[string]any{"ids": []string{"1"}, "urls": []string{"https://social.example/@northdale/1"}})
	if err := f.db.RecordDelivery(ctx, store.Delivery{NoticeID: sd.delivered.NoticeID, Channel: "masto", Revision: sd.delivered.Revision, Action: delivery.ActionPublish, Receipt: receipt}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		a     delivery.Args
		state string
		err   string
	}{
		{sd.delivered, store.DeliveryDelivered, ""},
		{sd.failed, store.DeliveryFailed, "webhook https://hooks.example/in?token=s3cret refused: 401 Unauthorized"},
		{sd.gaveUp, store.DeliveryDiscarded, "mastodon: 503 Service Unavailable"},
	} {
		if err := f.db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: s.a.NoticeID, Revision: s.a.Revision, Channel: s.a.Channel, Action: s.a.Action, State: s.state, Attempts: 3, LastError: s.err}); err != nil {
			t.Fatal(err)
		}
	}
	// As River leaves a job after its last attempt failed.
	if _, err := f.db.JobPool().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', attempt = max_attempts, finalized_at = scheduled_at WHERE id = `+strconv.FormatInt(sd.gaveUpJob, 10)); err != nil {
		t.Fatal(err)
	}
	return sd
}

// deliveryJobs is every River job of a delivery.
func deliveryJobs(t *testing.T, f *fixture, a delivery.Args) []*rivertype.JobRow {
	t.Helper()
	res, err := f.queue.JobList(context.Background(), river.NewJobListParams().Kinds(a.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	var out []*rivertype.JobRow
	for _, j := range res.Jobs {
		var got delivery.Args
		if json.Unmarshal(j.EncodedArgs, &got) == nil && got == a {
			out = append(out, j)
		}
	}
	return out
}

// tableRows counts a page's table rows, less the heading's.
func tableRows(body string) int {
	return max(strings.Count(body, `<tr class="govuk-table__row">`)-1, 0)
}

func TestDeliveriesPage(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixtureOn(t, engine)
			addStaff(t, f)
			sd := seedDeliveries(t, f)
			if sd.total <= deliveriesPerPage {
				t.Fatalf("the demo should fill more than one page: %d deliveries", sd.total)
			}
			approver := console{t, f, signIn(t, f, auth.Approver)}
			pages := (sd.total + deliveriesPerPage - 1) / deliveriesPerPage
			for _, tc := range []struct {
				name, query string
				status      int
				rows        int
				says        []string
				never       []string
			}{
				{"first page", "", 200, deliveriesPerPage, []string{strconv.Itoa(sd.total) + " deliveries, page 1 of " + strconv.Itoa(pages), `rel="next"`}, []string{`rel="prev"`}},
				{"last page", "page=" + strconv.Itoa(pages), 200, sd.total - (pages-1)*deliveriesPerPage, []string{`rel="prev"`}, []string{`rel="next"`}},
				{"one notice", "notice=" + itoa(sd.firstNotice), 200, 2, []string{"2 deliveries"}, nil},
				{"one channel", "channel=bsky", 200, min(sd.total/2, deliveriesPerPage), []string{strconv.Itoa(sd.total/2) + " deliveries"}, []string{"<td class=\"govuk-table__cell\">masto</td>"}},
				// The error is shown without the address's query, which
				// may hold a token.
				{"failed", "state=failed", 200, 1, []string{"Failed", "Retry now", "https://hooks.example/in?…"}, []string{"s3cret"}},
				{"discarded", "state=discarded", 200, 1, []string{"Discarded", "Retry now"}, nil},
				{"delivered", "state=delivered", 200, 1, []string{`href="https://social.example/@northdale/1"`}, []string{"Retry now"}},
				// Waiting in the queue, with the time it will run.
				{"queued", "state=queued&channel=masto&notice=" + itoa(sd.waiting), 200, 1, []string{"Queued", "<time datetime="}, []string{"Retry now"}},
				{"on the day", "from=13/1/2026&to=2026-01-13", 200, deliveriesPerPage, []string{strconv.Itoa(sd.total) + " deliveries"}, nil},
				{"after it", "from=14/1/2026", 200, 0, []string{"0 deliveries", "No deliveries match."}, nil},
				{"bad date", "from=31/2/2026", 400, 0, []string{"govuk-error-summary", `href="#from"`}, nil},
				{"end before start", "from=14/1/2026&to=13/1/2026", 400, 0, []string{`href="#to"`}, nil},
				{"bad notice", "notice=twelve", 400, 0, []string{`href="#notice"`}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := approver.get("/staff/deliveries?" + tc.query)
					if r.status != tc.status {
						t.Fatalf("status %d, want %d\n%.2000s", r.status, tc.status, r.body)
					}
					if got := tableRows(r.body); tc.status == 200 && got != tc.rows {
						t.Errorf("%d rows, want %d", got, tc.rows)
					}
					for _, s := range tc.says {
						if !strings.Contains(r.body, s) {
							t.Errorf("page does not say %q", s)
						}
					}
					for _, s := range tc.never {
						if strings.Contains(r.body, s) {
							t.Errorf("page says %q", s)
						}
					}
				})
			}

			// The notice's own page sums up its current revision per
			// channel for everyone; the link to the full list is for
			// those who may open it.
			published := publishedPath(sd.firstNotice)
			for _, tc := range []struct {
				who  auth.Role
				link bool
			}{{auth.Viewer, false}, {auth.Author, false}, {auth.Approver, true}} {
				r := console{t, f, signIn(t, f, tc.who)}.get(published)
				for _, s := range []string{`id="delivery"`, "<dt class=\"govuk-summary-list__key\">bsky</dt>", "Failed", "Delivered", `href="https://social.example/@northdale/1"`, "hooks.example/in?…"} {
					if !strings.Contains(r.body, s) {
						t.Errorf("%s: notice page does not say %q", tc.who, s)
					}
				}
				if got := strings.Contains(r.body, `href="/staff/deliveries?notice=`+itoa(sd.firstNotice)+`"`); got != tc.link {
					t.Errorf("%s: link to every delivery shown %v, want %v", tc.who, got, tc.link)
				}
			}
			if r := approver.get(publishedPath(sd.waiting)); !strings.Contains(r.body, "Queued") || !strings.Contains(r.body, "next attempt <time") {
				t.Errorf("waiting notice's page: %.3000s", r.body)
			}

			ctx := context.Background()
			form := func(a delivery.Args) url.Values {
				return url.Values{"notice_id": {itoa(a.NoticeID)}, "revision": {strconv.Itoa(a.Revision)}, "channel": {a.Channel}, "action": {a.Action}, "back": {"state=failed&page=1"}}
			}
			// The failed delivery's job is gone from River (River removes
			// finished jobs in time): a job with the same arguments is
			// queued. The discarded one's own job is queued again.
			for _, a := range []delivery.Args{sd.failed, sd.gaveUp} {
				r := approver.post("/staff/deliveries/retry", form(a))
				if r.status != 303 || r.header.Get("Location") != "/staff/deliveries?done=retried&state=failed" {
					t.Fatalf("retry %s: %d to %q\n%.1000s", a.Key(), r.status, r.header.Get("Location"), r.body)
				}
				jobs := deliveryJobs(t, f, a)
				if len(jobs) != 1 || jobs[0].State != rivertype.JobStateAvailable {
					t.Fatalf("jobs of %s after retry: %+v", a.Key(), jobs)
				}
				// Same arguments, so the same idempotency key.
				var args delivery.Args
				if err := json.Unmarshal(jobs[0].EncodedArgs, &args); err != nil || args.Key() != a.Key() {
					t.Errorf("queued job's key %q, want %q", args.Key(), a.Key())
				}
				if a == sd.gaveUp && jobs[0].ID != sd.gaveUpJob {
					t.Errorf("discarded delivery queued as job %d, want its own job %d again", jobs[0].ID, sd.gaveUpJob)
				}
			}
			done := approver.get("/staff/deliveries?done=retried&notice=" + itoa(sd.firstNotice))
			if !strings.Contains(done.body, "Queued again") || strings.Contains(done.body, "Retry now") {
				t.Errorf("after retrying: %.3000s", done.body)
			}
			entries, err := audit.List(ctx, f.db, audit.Filter{Action: string(delivery.AuditRetry)})
			if err != nil || len(entries) != 2 || entries[0].Target != "delivery:"+sd.failed.Key() || entries[0].Actor != "user:"+staffEmail(auth.Approver) {
				t.Fatalf("audit entries: %+v, %v", entries, err)
			}

			for _, tc := range []struct {
				name string
				who  auth.Role
				a    delivery.Args
				want int
				says string
			}{
				{"delivered", auth.Admin, sd.delivered, 409, "was made already"},
				{"waiting", auth.Approver, sd.failed, 409, "already waiting in the queue"},
				{"unknown", auth.Approver, delivery.Args{NoticeID: sd.firstNotice, Revision: 99, Channel: "masto", Action: delivery.ActionPublish}, 404, "no delivery"},
				{"bad action", auth.Approver, delivery.Args{NoticeID: sd.firstNotice, Revision: 1, Channel: "masto", Action: "shout"}, 400, "not a delivery action"},
				{"author", auth.Author, sd.delivered, 403, "does not allow"},
			} {
				t.Run("refused "+tc.name, func(t *testing.T) {
					r := console{t, f, signIn(t, f, tc.who)}.post("/staff/deliveries/retry", form(tc.a))
					if r.status != tc.want || !strings.Contains(r.body, tc.says) {
						t.Errorf("status %d, want %d saying %q\n%.2000s", r.status, tc.want, tc.says, r.body)
					}
				})
			}
			if entries, _ := audit.List(ctx, f.db, audit.Filter{Action: string(delivery.AuditRetry)}); len(entries) != 2 {
				t.Errorf("refused retries were audited: %d entries", len(entries))
			}
			if r := (console{t, f, signIn(t, f, auth.Author)}).get("/staff/deliveries"); r.status != 403 {
				t.Errorf("author: %d, want 403", r.status)
			}
		})
	}
}
