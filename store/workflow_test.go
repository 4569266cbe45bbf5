package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
	"github.com/signpost-uk/signpost/workflow"
)

func addUser(t *testing.T, db *store.DB, email, role string) int64 {
	t.Helper()
	u := store.User{Email: email, Name: email, Role: role}
	if err := db.Update(context.Background(), func(tx *store.Tx) error { return tx.InsertUser(context.Background(), &u) }); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestWorkflowItemRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		author := addUser(t, db, "ann@example.org", "author")
		approver := addUser(t, db, "bo@example.org", "approver")
		if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
			t.Fatal(err)
		}
		clock := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		starts := time.Date(2026, 1, 6, 7, 30, 0, 0, time.UTC)
		at := clock.Add(2 * time.Hour)
		it := workflow.Item{Action: workflow.Create, State: workflow.Draft, AuthorID: author, Risk: risk.Medium, Political: true,
			NeedsApproval: true, RequiredRole: workflow.Approver,
			Content: signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
				Places:   []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "100001"}, {Kind: signpost.PlaceWard, ID: "W1"}},
				Headline: "Holy Trinity closed", Body: "Snow.", Starts: &starts, Channels: []string{"masto"}}}
		err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertWorkflowItem(ctx, &it) })
		if err != nil || it.ID == 0 || it.Version != 1 {
			t.Fatalf("insert: %+v, %v", it, err)
		}
		got, err := db.WorkflowItem(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Content.Headline != "Holy Trinity closed" || len(got.Content.Places) != 2 || !slices.Equal(got.Content.Channels, []string{"masto"}) ||
			got.Risk != risk.Medium || !got.Political || !got.NeedsApproval || got.RequiredRole != workflow.Approver ||
			got.Content.Starts == nil || !got.Content.Starts.Equal(starts) || !got.CreatedAt.Equal(clock) || got.NoticeID != 0 {
			t.Errorf("read back %+v", got)
		}

		// A save moves the version; a save from a stale copy is refused.
		stale := got
		clock = clock.Add(time.Minute)
		got.State, got.ApproverID, got.ApprovedAt, got.PublishAt = workflow.Scheduled, approver, &clock, &at
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SaveWorkflowItem(ctx, &got) }); err != nil || got.Version != 2 {
			t.Fatalf("save: version %d, %v", got.Version, err)
		}
		stale.Comment = "lost update"
		err = db.Update(ctx, func(tx *store.Tx) error { return tx.SaveWorkflowItem(ctx, &stale) })
		if signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("stale save: %v, want conflict", err)
		}
		again, _ := db.WorkflowItem(ctx, it.ID)
		if again.Comment != "" || again.State != workflow.Scheduled || again.ApproverID != approver || again.PublishAt == nil || !again.PublishAt.Equal(at) {
			t.Errorf("after save %+v", again)
		}

		// Listing by state, author and due time.
		other := workflow.Item{Action: workflow.Create, State: workflow.Draft, AuthorID: approver,
			Content: signpost.NoticeInput{Category: signpost.CategoryOther, Status: signpost.StatusInformation, Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "x"}}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertWorkflowItem(ctx, &other) }); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			f    store.WorkflowFilter
			want []int64
		}{
			{"all, newest first", store.WorkflowFilter{}, []int64{other.ID, it.ID}},
			{"drafts", store.WorkflowFilter{States: []workflow.State{workflow.Draft, workflow.Returned}}, []int64{other.ID}},
			{"by author", store.WorkflowFilter{AuthorID: author}, []int64{it.ID}},
			{"not due yet", store.WorkflowFilter{DueBy: clock}, nil},
			{"due", store.WorkflowFilter{DueBy: at}, []int64{it.ID}},
		}
		for _, tt := range tests {
			items, err := db.WorkflowItems(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, x := range items {
				ids = append(ids, x.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
			}
		}

		// Claiming a due item succeeds once.
		var first, second bool
		err = db.Update(ctx, func(tx *store.Tx) error {
			var err error
			if first, err = tx.ClaimDueWorkflowItem(ctx, it.ID, at); err != nil {
				return err
			}
			second, err = tx.ClaimDueWorkflowItem(ctx, it.ID, at)
			return err
		})
		if err != nil || !first || second {
			t.Errorf("claims: first %v second %v err %v", first, second, err)
		}
		if _, err := db.WorkflowItem(ctx, 99999); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("missing item: %v", err)
		}
	})
}

func TestWorkflowSettings(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := db.WorkflowSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := workflow.Defaults(); s.ApprovalFrom != d.ApprovalFrom || s.UrgentEnabled != d.UrgentEnabled || s.PoliticalRole != d.PoliticalRole || s.PreElectionFrom != nil {
			t.Errorf("fresh settings %+v, want the defaults", s)
		}
		from, to := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC)
		want := workflow.Settings{ApprovalFrom: risk.None, UrgentEnabled: false, PoliticalRole: workflow.Admin, PreElectionFrom: &from, PreElectionTo: &to}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SaveWorkflowSettings(ctx, want) }); err != nil {
			t.Fatal(err)
		}
		got, err := db.WorkflowSettings(ctx)
		if err != nil || got.ApprovalFrom != risk.None || got.UrgentEnabled || got.PoliticalRole != workflow.Admin ||
			got.PreElectionFrom == nil || !got.PreElectionFrom.Equal(from) || !got.PreElectionTo.Equal(to) {
			t.Errorf("read back %+v, %v", got, err)
		}
		bad := want
		bad.PoliticalRole = workflow.Author
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SaveWorkflowSettings(ctx, bad) }); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("bad settings saved: %v", err)
		}
		// Clearing the period.
		want.PreElectionFrom, want.PreElectionTo = nil, nil
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SaveWorkflowSettings(ctx, want) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.WorkflowSettings(ctx); got.PreElectionFrom != nil || got.PreElectionTo != nil {
			t.Errorf("period not cleared: %+v", got)
		}
	})
}
