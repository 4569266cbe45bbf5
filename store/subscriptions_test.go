package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })

		if _, err := db.RequestSubscription(ctx, "", []string{"ward:W1"}); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("empty address: %v", err)
		}
		s1, err := db.RequestSubscription(ctx, "ann@example.org", []string{"ward:W1", "category:schools"})
		if err != nil {
			t.Fatal(err)
		}
		if s1.Request != 1 || len(s1.Topics) != 2 || s1.ConfirmedAt != nil || len(s1.Confirmed()) != 0 {
			t.Fatalf("first request = %+v", s1)
		}
		// Someone else asks for another topic for the same address: the
		// first link must not confirm it.
		now = now.Add(time.Minute)
		s2, err := db.RequestSubscription(ctx, "ann@example.org", []string{"round:B1"})
		if err != nil || s2.ID != s1.ID || s2.Request != 2 {
			t.Fatalf("second request = %+v, %v", s2, err)
		}
		got, err := db.ConfirmSubscription(ctx, s1.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c := got.Confirmed(); !slices.Equal(c, []string{"category:schools", "ward:W1"}) || got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(now) {
			t.Errorf("confirmed = %v at %v", c, got.ConfirmedAt)
		}
		// Confirming again is harmless; a request number never made is not.
		if _, err := db.ConfirmSubscription(ctx, s1.ID, 1); err != nil {
			t.Errorf("confirm twice: %v", err)
		}
		if _, err := db.ConfirmSubscription(ctx, s1.ID, 9); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("confirm unknown request: %v", err)
		}
		// A confirmed topic asked for again stays confirmed.
		if s3, err := db.RequestSubscription(ctx, "ann@example.org", []string{"ward:W1"}); err != nil || !slices.Contains(s3.Confirmed(), "ward:W1") {
			t.Errorf("re-request of confirmed topic = %+v, %v", s3, err)
		}
		// The unconfirmed round expires; the confirmed topics stay.
		if _, err := db.RequestSubscription(ctx, "bob@example.org", []string{"ward:W2"}); err != nil {
			t.Fatal(err)
		}
		n, err := db.ExpireSubscriptionRequests(ctx, now.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("expired %d, %v; want 2 (ann's round, bob's ward)", n, err)
		}
		got, _ = db.Subscriber(ctx, s1.ID)
		if len(got.Topics) != 2 {
			t.Errorf("after expiry ann has %v", got.Topics)
		}
		if _, err := db.RequestSubscription(ctx, "carol@example.org", []string{"ward:W2"}); err != nil {
			t.Fatal(err)
		}
		var nobody *signpost.Error
		if _, err := db.ConfirmSubscription(ctx, 999999, 1); !errors.As(err, &nobody) || nobody.Code != signpost.ENOTFOUND {
			t.Errorf("confirm unknown subscriber: %v", err)
		}
		if err := db.RemoveSubscriptionTopic(ctx, s1.ID, "ward:W1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Subscriber(ctx, s1.ID); !slices.Equal(got.Confirmed(), []string{"category:schools"}) {
			t.Errorf("after removing ward: %v", got.Confirmed())
		}
		if err := db.Unsubscribe(ctx, s1.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Unsubscribe(ctx, s1.ID); err != nil {
			t.Errorf("unsubscribe twice: %v", err)
		}
		if _, err := db.Subscriber(ctx, s1.ID); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("after unsubscribe: %v", err)
		}
	})
}

func TestFanOut(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		confirmed := func(email string, topics ...string) int64 {
			s, err := db.RequestSubscription(ctx, email, topics)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ConfirmSubscription(ctx, s.ID, s.Request); err != nil {
				t.Fatal(err)
			}
			return s.ID
		}
		ann := confirmed("ann@example.org", "ward:W1")
		bob := confirmed("bob@example.org", "category:schools")
		carol := confirmed("carol@example.org", "ward:W2")
		if _, err := db.RequestSubscription(ctx, "dave@example.org", []string{"ward:W1"}); err != nil { // never confirmed
			t.Fatal(err)
		}
		n, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "100001"}}, Headline: "Holy Trinity closed"})
		if err != nil {
			t.Fatal(err)
		}
		db.SetClock(func() time.Time { return time.Now().Add(time.Minute) })
		confirmed("erin@example.org", "ward:W1") // after the notice: old news is not sent
		db.SetClock(time.Now)
		todo, err := db.UnfannedRevisions(ctx, 10)
		if err != nil || len(todo) != 1 || todo[0] != (store.RevisionRef{NoticeID: n.ID, Revision: 1}) {
			t.Fatalf("unfanned = %v, %v", todo, err)
		}
		var queued []int64
		enqueue := func(tx *store.Tx, ids []int64) error { queued = append(queued, ids...); return nil }
		// The school is in W1: ward subscribers there and category
		// subscribers get it; W2 and the unconfirmed address do not.
		count, done, err := db.FanOut(ctx, store.Fanout{Ref: todo[0], Topics: []string{"category:schools", "school:100001", "ward:W1"}}, enqueue)
		if err != nil || !done || count != 2 || !slices.Equal(queued, []int64{ann, bob}) {
			t.Fatalf("fan-out = %d %v %v, queued %v", count, done, err, queued)
		}
		// Once only, whoever asks.
		if count, done, err := db.FanOut(ctx, store.Fanout{Ref: todo[0], Topics: []string{"ward:W1"}}, enqueue); err != nil || done || count != 0 || len(queued) != 2 {
			t.Errorf("second fan-out = %d %v %v", count, done, err)
		}
		if left, _ := db.UnfannedRevisions(ctx, 10); len(left) != 0 {
			t.Errorf("still unfanned: %v", left)
		}
		// A failed enqueue rolls the fan-out back.
		n2, _ := db.UpdateNotice(ctx, n.ID, signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusInformation,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Roads update"})
		r2 := store.RevisionRef{NoticeID: n.ID, Revision: n2.Revision}
		if _, _, err := db.FanOut(ctx, store.Fanout{Ref: r2, AnyPlace: true}, func(*store.Tx, []int64) error { return errors.New("queue down") }); err == nil {
			t.Fatal("fan-out with failing enqueue succeeded")
		}
		if left, _ := db.UnfannedRevisions(ctx, 10); len(left) != 1 {
			t.Fatalf("after failed fan-out: unfanned %v", left)
		}
		pending, err := db.PendingSends(ctx, todo[0], 0, 1<<62)
		if err != nil || len(pending) != 2 || pending[0].Email != "ann@example.org" {
			t.Fatalf("pending = %+v, %v", pending, err)
		}
		if err := db.MarkSent(ctx, todo[0], []int64{ann}); err != nil {
			t.Fatal(err)
		}
		if err := db.DropSends(ctx, todo[0], []int64{bob}); err != nil {
			t.Fatal(err)
		}
		if sent, left, err := db.SendCounts(ctx, todo[0]); err != nil || sent != 1 || left != 0 {
			t.Errorf("counts = %d sent %d pending, %v", sent, left, err)
		}
		// The whole-area roads revision: every place subscriber, plus
		// ann, who had the first revision; not bob (category schools).
		queued = nil
		if count, _, err := db.FanOut(ctx, store.Fanout{Ref: r2, AnyPlace: true, Topics: []string{"category:roads"}}, enqueue); err != nil || count != 2 || !slices.Equal(queued, []int64{ann, carol}) {
			t.Errorf("update fan-out = %d, %v, queued %v", count, err, queued)
		}
		// A retraction goes only to those who were sent something.
		n3, _ := db.UpdateNotice(ctx, n.ID, signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusInformation,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Roads update 2"})
		r3 := store.RevisionRef{NoticeID: n.ID, Revision: n3.Revision}
		queued = nil
		if count, _, err := db.FanOut(ctx, store.Fanout{Ref: r3, OnlyEarlierRecipients: true, Topics: []string{"ward:W2"}}, enqueue); err != nil || count != 1 || !slices.Equal(queued, []int64{ann}) {
			t.Errorf("retraction fan-out = %d, %v, queued %v", count, err, queued)
		}
		if got, err := db.ReceivedEarlier(ctx, r3, []int64{ann, bob, carol}); err != nil || !got[ann] || got[bob] || got[carol] {
			t.Errorf("received earlier = %v, %v", got, err)
		}
		// Unsubscribing removes the pending sends with the address.
		if err := db.Unsubscribe(ctx, carol); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.PendingSends(ctx, r2, 0, 1<<62); len(p) != 1 || p[0].SubscriberID != ann {
			t.Errorf("pending after carol left = %+v", p)
		}
	})
}
