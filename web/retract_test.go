package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

// TestRetractedNoticeDisappears checks that a retracted notice leaves every
// residents' surface at once, and that its own addresses answer 410 Gone.
func TestRetractedNoticeDisappears(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixtureOn(t, engine)
			ctx := context.Background()
			const headline = "Bin collections suspended in error test"
			n, err := f.db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategoryWaste, Status: signpost.StatusCancelled,
				Places: []signpost.PlaceRef{{Kind: signpost.PlaceRound, ID: "ND-R001"}}, Headline: headline, Body: "Crews are gritting instead."})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.srv.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			id := itoa(n.ID)
			lists := []string{"/", "/rounds/ND-R001", "/area?postcode=ND1+1BX", "/feeds/notices.atom", "/feeds/notices.json",
				"/feeds/notices.atom?category=waste", "/feeds/cap.atom", "/api/v1/notices", "/api/v1/notices?include_closed=true", "/calendar/rounds/ND-R001.ics"}
			own := []string{"/notices/" + id, "/api/v1/notices/" + id, "/cap/" + id + ".xml"}
			for _, p := range append(append([]string{}, lists...), own...) {
				if r := get(t, f.srv, p); r.status != http.StatusOK || !strings.Contains(r.body, "error test") {
					t.Fatalf("before retraction %s: status %d, headline shown %v", p, r.status, strings.Contains(r.body, "error test"))
				}
			}

			f.clock.Set(testNow.Add(time.Minute))
			if _, err := f.db.RetractNotice(ctx, n.ID); err != nil {
				t.Fatal(err)
			}
			if changed, err := f.srv.poll(ctx); err != nil || !changed {
				t.Fatalf("poll after retraction: changed %v, err %v", changed, err)
			}
			for _, p := range lists {
				if r := get(t, f.srv, p); r.status != http.StatusOK || strings.Contains(r.body, "error test") {
					t.Errorf("after retraction %s: status %d, headline still shown %v", p, r.status, strings.Contains(r.body, "error test"))
				}
			}
			for _, p := range own {
				r := get(t, f.srv, p)
				if r.status != http.StatusGone || strings.Contains(r.body, "error test") {
					t.Errorf("after retraction %s: status %d (want 410), headline shown %v", p, r.status, strings.Contains(r.body, "error test"))
				}
			}
			if r := get(t, f.srv, "/notices/"+id); !strings.Contains(r.body, "withdrawn") {
				t.Errorf("410 page does not explain the withdrawal:\n%s", r.body)
			}
			if r := get(t, f.srv, "/api/v1/notices/"+id); !strings.Contains(r.body, `"gone"`) {
				t.Errorf("API 410 lacks the gone code: %s", r.body)
			}
		})
	}
}
