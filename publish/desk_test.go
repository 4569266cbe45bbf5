package publish_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
	"github.com/signpost-uk/signpost/workflow"
)

type desk struct {
	*publish.Desk
	db                      *store.DB
	clock                   *time.Time
	mu                      *sync.Mutex
	author, approver, admin workflow.Actor
	author2                 workflow.Actor
}

func (d desk) set(t time.Time) {
	d.mu.Lock()
	*d.clock = t
	d.mu.Unlock()
}

func newDesk(t *testing.T, db *store.DB) desk {
	t.Helper()
	ctx := context.Background()
	d := desk{db: db, clock: new(time.Time), mu: new(sync.Mutex)}
	*d.clock = time.Date(2026, 1, 6, 5, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { d.mu.Lock(); defer d.mu.Unlock(); return *d.clock })
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutWard(ctx, signpost.Ward{Code: "W1", Name: "Greenbank", Lat: 54.1, Lon: -1.5}); err != nil {
			return err
		}
		if err := tx.PutRoute(ctx, signpost.Route{ID: "R1", Name: "Route 1", Priority: 1, Wards: []string{"W1"}, LengthKM: 3,
			Line: []signpost.Point{{Lon: -1.5, Lat: 54.1}, {Lon: -1.4, Lat: 54.2}}}); err != nil {
			return err
		}
		for i, p := range []struct {
			a    *workflow.Actor
			role workflow.Role
		}{{&d.author, workflow.Author}, {&d.author2, workflow.Author}, {&d.approver, workflow.Approver}, {&d.admin, workflow.Admin}} {
			email := string(p.role) + string(rune('0'+i)) + "@example.org"
			u := store.User{Email: email, Name: email, Role: string(p.role)}
			if err := tx.InsertUser(ctx, &u); err != nil {
				return err
			}
			*p.a = workflow.Actor{ID: u.ID, Name: "user:" + email, Role: p.role}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
		t.Fatal(err)
	}
	sc, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Desk = publish.NewDesk(db, sc, time.UTC, nil)
	return d
}

var gritting = signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusGrittingInProgress,
	Places: []signpost.PlaceRef{{Kind: signpost.PlaceRoute, ID: "R1"}}, Headline: "Route 1 is being gritted now",
	Body: "Crews are out on Route 1.", Channels: []string{"masto"}}

// risky has a medium-or-higher finding (abuse aimed at residents).
var risky = func() signpost.NoticeInput {
	in := gritting
	in.Status = signpost.StatusInformation
	in.Body = "Stop moaning, you idiots, the gritters are out."
	return in
}()

// mustFor returns a helper that fails t on an error and returns the item.
func mustFor(t *testing.T) func(workflow.Item, error) workflow.Item {
	return func(it workflow.Item, err error) workflow.Item {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := signpost.ErrorCode(err); got != code {
		t.Errorf("%s: %v (code %q), want %q", what, err, got, code)
	}
}

func residents(t *testing.T, db *store.DB) map[int64]signpost.Notice {
	t.Helper()
	ns, err := db.Notices(context.Background(), signpost.NoticeFilter{IncludeClosed: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]signpost.Notice{}
	for _, n := range ns {
		out[n.ID] = n
	}
	return out
}

func TestApprovalLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		must := mustFor(t)
		if rep := d.Assess(workflow.Defaults(), risky).Report; rep.Level < risk.Medium {
			t.Fatalf("the risky fixture screens as %s; pick text the screener finds risky", rep.Level)
		}
		it := must(d.Create(ctx, d.author, workflow.Create, 0, risky))
		if it.State != workflow.Draft || !it.NeedsApproval || it.Risk < risk.Medium {
			t.Fatalf("draft %+v", it)
		}
		_, err := d.Publish(ctx, d.author, it.ID, it.Version)
		wantCode(t, "publishing a risky draft", err, signpost.EFORBIDDEN)
		_, err = d.Urgent(ctx, d.author, it.ID, it.Version)
		wantCode(t, "urgent path for a risky draft", err, signpost.EFORBIDDEN)
		it = must(d.Submit(ctx, d.author, it.ID, it.Version))
		_, err = d.Approve(ctx, d.author2, it.ID, it.Version)
		wantCode(t, "an author approving", err, signpost.EFORBIDDEN)
		_, err = d.Return(ctx, d.approver, it.ID, it.Version, "  ")
		wantCode(t, "return without a comment", err, signpost.EINVALID)
		it = must(d.Return(ctx, d.approver, it.ID, it.Version, "Please drop the insult."))
		if it.State != workflow.Returned || it.Comment != "Please drop the insult." {
			t.Fatalf("returned %+v", it)
		}
		clean := risky
		clean.Body = "The gritters are out on Route 1."
		it = must(d.Edit(ctx, d.author, it.ID, it.Version, clean))
		if it.NeedsApproval || it.Risk >= risk.Medium {
			t.Errorf("clean edit still needs approval: %+v", it)
		}
		// Clean now, but the author still chooses to ask for approval.
		it = must(d.Submit(ctx, d.author, it.ID, it.Version))
		if it.Comment != "" {
			t.Errorf("resubmission kept the old comment %q", it.Comment)
		}
		_, err = d.Approve(ctx, d.approver, it.ID, it.Version-1)
		wantCode(t, "approving a stale version", err, signpost.ECONFLICT)
		it = must(d.Approve(ctx, d.approver, it.ID, it.Version))
		if it.State != workflow.Approved || it.ApproverID != d.approver.ID || it.ApprovedAt == nil {
			t.Fatalf("approved %+v", it)
		}
		if len(residents(t, db)) != 0 {
			t.Fatal("approval published the notice")
		}
		it = must(d.Publish(ctx, d.author, it.ID, it.Version))
		n, ok := residents(t, db)[it.NoticeID]
		if it.State != workflow.Published || !ok || n.Headline != clean.Headline || n.Revision != 1 || it.PublishedRevision != 1 || len(n.Channels) != 1 {
			t.Fatalf("published %+v, notice %+v", it, n)
		}

		// An update of a published notice that adds risk needs approval again.
		up := must(d.Create(ctx, d.author, workflow.Update, n.ID, risky))
		_, err = d.Publish(ctx, d.author, up.ID, up.Version)
		wantCode(t, "publishing a risky update", err, signpost.EFORBIDDEN)
		up = must(d.Submit(ctx, d.author, up.ID, up.Version))
		_, err = d.Approve(ctx, d.author, up.ID, up.Version)
		wantCode(t, "approving own update", err, signpost.EFORBIDDEN)
		up = must(d.Approve(ctx, d.admin, up.ID, up.Version))
		up = must(d.Publish(ctx, d.approver, up.ID, up.Version))
		if n := residents(t, db)[n.ID]; n.Revision != 2 || n.Body != risky.Body {
			t.Errorf("after update: %+v", n)
		}
		// A clean update publishes straight away.
		clean.Status = signpost.StatusGritted
		up2 := must(d.Create(ctx, d.author, workflow.Update, n.ID, clean))
		up2 = must(d.Publish(ctx, d.author, up2.ID, up2.Version))
		// An update written against an old revision is refused.
		old := must(d.Create(ctx, d.author2, workflow.Update, n.ID, clean))
		closeIt := must(d.Create(ctx, d.author, workflow.Close, n.ID, signpost.NoticeInput{}))
		closeIt = must(d.Publish(ctx, d.author, closeIt.ID, closeIt.Version))
		if n := residents(t, db)[n.ID]; n.ClosedAt == nil || n.Revision != 4 {
			t.Errorf("after close: %+v", n)
		}
		_, err = d.Publish(ctx, d.author2, old.ID, old.Version)
		wantCode(t, "publishing an update written against an old revision", err, signpost.ECONFLICT)

		_, err = d.Retract(ctx, d.author, n.ID, "Wrong route")
		wantCode(t, "an author retracting", err, signpost.EFORBIDDEN)
		_, err = d.Retract(ctx, d.approver, n.ID, "")
		wantCode(t, "retracting without a reason", err, signpost.EINVALID)
		must(d.Retract(ctx, d.approver, n.ID, "Wrong route"))
		if _, ok := residents(t, db)[n.ID]; ok {
			t.Error("retracted notice still shown to residents")
		}
		_, err = d.Retract(ctx, d.approver, n.ID, "again")
		wantCode(t, "retracting twice", err, signpost.ECONFLICT)
		_, err = d.Create(ctx, d.author, workflow.Update, n.ID, clean)
		wantCode(t, "updating a retracted notice", err, signpost.ECONFLICT)

		// Every step is in the audit log, and the chain verifies.
		entries, err := audit.List(ctx, db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[audit.Action]int{}
		for _, e := range entries {
			seen[e.Action]++
		}
		for _, a := range []audit.Action{audit.Create, audit.Edit, audit.Submit, audit.Return, audit.Approve, audit.Publish, audit.Close, audit.Retract} {
			if seen[a] == 0 {
				t.Errorf("no %s entry in the audit log: %v", a, seen)
			}
		}
		if rep, err := audit.Verify(ctx, db); err != nil || rep.Broken != nil {
			t.Errorf("audit verify: %+v, %v", rep, err)
		}
	})
}

func TestUrgentPath(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		must := mustFor(t)
		// The council asks for approval of everything; urgent still works.
		s := workflow.Defaults()
		s.ApprovalFrom = risk.None
		wantCode(t, "an approver changing the rules", d.SaveSettings(ctx, d.approver, s), signpost.EFORBIDDEN)
		if err := d.SaveSettings(ctx, d.admin, s); err != nil {
			t.Fatal(err)
		}
		it := must(d.Create(ctx, d.author, workflow.Create, 0, gritting))
		_, err := d.Publish(ctx, d.author, it.ID, it.Version)
		wantCode(t, "ordinary publishing when every notice needs approval", err, signpost.EFORBIDDEN)
		it = must(d.Urgent(ctx, d.author, it.ID, it.Version))
		if it.State != workflow.Published || !it.Urgent || it.Review != workflow.ReviewPending {
			t.Fatalf("urgent %+v", it)
		}
		if _, ok := residents(t, db)[it.NoticeID]; !ok {
			t.Fatal("urgent notice not published")
		}
		entries, _ := audit.List(ctx, db, audit.Filter{Action: string(publish.AuditUrgent)})
		if len(entries) != 2 { // the item and the notice
			t.Errorf("urgent publishing not named in the audit log: %d entries", len(entries))
		}
		_, err = d.Review(ctx, d.author, it.ID, it.Version)
		wantCode(t, "the author reviewing", err, signpost.EFORBIDDEN)
		it = must(d.Review(ctx, d.approver, it.ID, it.Version))
		if it.Review != workflow.ReviewDone || it.ReviewerID != d.approver.ID {
			t.Errorf("reviewed %+v", it)
		}

		info := gritting
		info.Status = signpost.StatusInformation
		x := must(d.Create(ctx, d.author, workflow.Create, 0, info))
		_, err = d.Urgent(ctx, d.author, x.ID, x.Version)
		wantCode(t, "urgent information notice", err, signpost.EFORBIDDEN)
	})
}

func TestPoliticalContentInPreElection(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		must := mustFor(t)
		from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
		s := workflow.Defaults()
		s.PoliticalRole, s.PreElectionFrom, s.PreElectionTo = workflow.Admin, &from, &to
		if err := d.SaveSettings(ctx, d.admin, s); err != nil {
			t.Fatal(err)
		}
		in := gritting
		in.Body = "Vote Labour on Thursday."
		a := d.Assess(s, in)
		if !a.PreElection || !workflow.Political(a.Report) {
			t.Fatalf("screener found no political content in the period: %+v", a.Report)
		}
		it := must(d.Create(ctx, d.author, workflow.Create, 0, in))
		if !it.NeedsApproval || it.RequiredRole != workflow.Admin {
			t.Fatalf("political draft %+v", it)
		}
		_, err := d.Urgent(ctx, d.author, it.ID, it.Version)
		wantCode(t, "urgent political content", err, signpost.EFORBIDDEN)
		it = must(d.Submit(ctx, d.author, it.ID, it.Version))
		_, err = d.Approve(ctx, d.approver, it.ID, it.Version)
		wantCode(t, "an approver approving political content when admins must", err, signpost.EFORBIDDEN)
		must(d.Approve(ctx, d.admin, it.ID, it.Version))

		// After the period the same text needs no named role.
		d.set(time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC))
		later := must(d.Create(ctx, d.author, workflow.Create, 0, in))
		if later.RequiredRole == workflow.Admin {
			t.Errorf("outside the period: %+v", later)
		}
	})
}

func TestScheduledPublishingOnce(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		must := mustFor(t)
		start := *d.clock
		var ids []int64
		for i := 0; i < 5; i++ {
			it := must(d.Create(ctx, d.author, workflow.Create, 0, gritting))
			_, err := d.Schedule(ctx, d.author, it.ID, it.Version, start.Add(-time.Minute))
			wantCode(t, "scheduling in the past", err, signpost.EINVALID)
			it = must(d.Schedule(ctx, d.author, it.ID, it.Version, start.Add(time.Duration(i+1)*time.Minute)))
			if it.State != workflow.Scheduled {
				t.Fatalf("scheduled %+v", it)
			}
			ids = append(ids, it.ID)
		}
		if n, err := d.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("nothing due yet: published %d, %v", n, err)
		}
		d.set(start.Add(10 * time.Minute))
		// Two schedulers (as two servers would run) race for the same items.
		var wg sync.WaitGroup
		counts := make([]int, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = d.RunDue(ctx)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("RunDue: %v, %v", errs[0], errs[1])
		}
		if counts[0]+counts[1] != 5 {
			t.Errorf("published %d + %d, want 5 in all", counts[0], counts[1])
		}
		if got := len(residents(t, db)); got != 5 {
			t.Errorf("%d notices published, want 5", got)
		}
		for _, id := range ids {
			it, _ := db.WorkflowItem(ctx, id)
			if it.State != workflow.Published || it.NoticeID == 0 {
				t.Errorf("item %d: %+v", id, it)
			}
		}
		entries, _ := audit.List(ctx, db, audit.Filter{Actor: publish.Scheduler, Action: string(audit.Publish)})
		if len(entries) != 10 { // one for each item and one for each notice
			t.Errorf("%d scheduler audit entries, want 10", len(entries))
		}

		// A scheduled update whose notice moved on goes back to its author.
		n := ids[0]
		it, _ := db.WorkflowItem(ctx, n)
		up := must(d.Create(ctx, d.author, workflow.Update, it.NoticeID, gritting))
		up = must(d.Schedule(ctx, d.author, up.ID, up.Version, start.Add(20*time.Minute)))
		cl := must(d.Create(ctx, d.author, workflow.Close, it.NoticeID, signpost.NoticeInput{}))
		must(d.Publish(ctx, d.author, cl.ID, cl.Version))
		d.set(start.Add(30 * time.Minute))
		if c, err := d.RunDue(ctx); err != nil || c != 0 {
			t.Errorf("stale scheduled update: published %d, %v", c, err)
		}
		up, _ = db.WorkflowItem(ctx, up.ID)
		if up.State != workflow.Returned || !strings.Contains(up.Comment, "Scheduled publishing failed") {
			t.Errorf("stale scheduled update %+v", up)
		}
	})
}
