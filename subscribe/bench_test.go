package subscribe_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// TestSpeed measures the target: N addresses (default 100,000)
// subscribed to one ward, one notice published; how long until every send
// is queued (target under 2 s) and how fast mailpit receives them (target
// 1,000 messages/s or more). It runs only when SIGNPOST_BENCH_SUBSCRIBERS
// is set:
//
//	SIGNPOST_BENCH_SUBSCRIBERS=100000 go test ./subscribe/ -run TestSpeed -v -timeout 30m
func TestSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SIGNPOST_BENCH_SUBSCRIBERS"))
	if n <= 0 {
		t.Skip("set SIGNPOST_BENCH_SUBSCRIBERS to run the subscription speed test")
	}
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	s := newSystem(t, db, 500)
	start := time.Now()
	err := db.Update(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		const batch = 500
		for i := 0; i < n; i += batch {
			q := `INSERT INTO subscribers (email, request, requested_at, confirmed_at) VALUES `
			var args []any
			for j := i; j < min(i+batch, n); j++ {
				if j > i {
					q += ", "
				}
				q += "(?, 1, ?, ?)"
				args = append(args, fmt.Sprintf("r%06d@example.org", j), now, now)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO subscription_topics (subscriber_id, topic, request, requested_at, confirmed_at)
			SELECT id, 'ward:NDW01', 1, requested_at, confirmed_at FROM subscribers`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("subscribed %d addresses in %s", n, time.Since(start).Round(time.Millisecond))

	notice, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
		Places: []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}}, Headline: "Greenbank bins a day late"})
	if err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	if _, err := s.svc.FanOutPending(ctx, s.q); err != nil {
		t.Fatal(err)
	}
	queued := time.Since(published)
	ref := store.RevisionRef{NoticeID: notice.ID, Revision: 1}
	if sent, pending, err := db.SendCounts(ctx, ref); err != nil || sent+pending != n {
		t.Fatalf("queued %d+%d sends, want %d (%v)", sent, pending, n, err)
	}
	var first time.Time
	for {
		c, err := s.mp.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c > 0 && first.IsZero() {
			first = time.Now()
		}
		if c >= n {
			break
		}
		if time.Since(published) > 20*time.Minute {
			t.Fatalf("only %d of %d messages after 20 minutes", c, n)
		}
		time.Sleep(200 * time.Millisecond) // polling mailpit's count
	}
	delivered := time.Since(published)
	rate := float64(n) / time.Since(first).Seconds()
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("subscribers %d: all queued %.3f s after publishing (target < 2 s: %s, ratio %.2f); all in mailpit after %.1f s: %.0f messages/s from the first (target >= 1000: %s, ratio %.2f); load average %s",
		n, queued.Seconds(), pass(queued < 2*time.Second), queued.Seconds()/2, delivered.Seconds(), rate, pass(rate >= 1000), rate/1000, string(load[:14]))
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
