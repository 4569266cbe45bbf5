package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
)

func TestCheckerWaitVisible(t *testing.T) {
	t.Parallel()
	const headline = "Snow-day bench check ab12-1"
	tests := []struct {
		name      string
		showAfter map[string]time.Duration // per path; absent = never
		wantSeen  bool
		minDelay  time.Duration
	}{
		{"both at once", map[string]time.Duration{"/a": 0, "/b": 0}, true, 0},
		{"one later", map[string]time.Duration{"/a": 0, "/b": 60 * time.Millisecond}, true, 60 * time.Millisecond},
		{"one never", map[string]time.Duration{"/a": 0}, false, 0},
		{"neither", map[string]time.Duration{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				after, ok := tt.showAfter[r.URL.Path]
				if ok && time.Since(start) >= after {
					fmt.Fprintf(w, "<h1>%s</h1>", headline)
					return
				}
				fmt.Fprint(w, "<h1>Snow-day bench check ab12-0</h1>")
			}))
			defer srv.Close()
			c := &checker{client: srv.Client(), urls: []string{srv.URL + "/a", srv.URL + "/b"}, poll: 5 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			d, seen := c.waitVisible(ctx, headline, start)
			if seen != tt.wantSeen {
				t.Fatalf("seen = %v, want %v", seen, tt.wantSeen)
			}
			if seen && d < tt.minDelay {
				t.Errorf("delay %v, want at least %v", d, tt.minDelay)
			}
		})
	}
}

// fakeNotices records updates in memory.
type fakeNotices struct {
	cur       signpost.Notice
	headlines []string
}

func (f *fakeNotices) Notice(ctx context.Context, id int64) (signpost.Notice, error) {
	return f.cur, nil
}

func (f *fakeNotices) UpdateNotice(ctx context.Context, id int64, in signpost.NoticeInput) (signpost.Notice, error) {
	if in.Category != f.cur.Category || in.Status != f.cur.Status || in.Body != f.cur.Body || len(in.Places) != len(f.cur.Places) {
		return signpost.Notice{}, fmt.Errorf("update changed more than the headline: %+v", in)
	}
	f.headlines = append(f.headlines, in.Headline)
	return f.cur, nil
}

// scriptedChecker answers with the given delays (negative = unseen) and
// cancels the run after the last one.
type scriptedChecker struct {
	delays []time.Duration
	calls  int
	stop   context.CancelFunc
}

func (s *scriptedChecker) waitVisible(ctx context.Context, headline string, start time.Time) (time.Duration, bool) {
	d := s.delays[s.calls]
	s.calls++
	if s.calls == len(s.delays) {
		s.stop()
	}
	return d, d >= 0
}

func TestUpdaterLoop(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name   string
		delays []time.Duration
		want   result
	}{
		{"all on time", []time.Duration{100 * ms, 300 * ms, 200 * ms},
			result{notice: 7, updates: 3, visible: 3, maxDelay: 300 * ms, sumDelay: 600 * ms}},
		{"one late", []time.Duration{100 * ms, 1500 * ms},
			result{notice: 7, updates: 2, visible: 2, late: 1, maxDelay: 1500 * ms, sumDelay: 1600 * ms}},
		{"one unseen", []time.Duration{-1, 50 * ms},
			result{notice: 7, updates: 2, visible: 1, unseen: 1, maxDelay: 50 * ms, sumDelay: 50 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			store := &fakeNotices{cur: signpost.Notice{
				ID: 7, Category: signpost.CategoryRoads, Status: signpost.StatusGritted,
				Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Roads gritted", Body: "All priority routes.",
			}}
			u := &updater{
				notices: store, check: &scriptedChecker{delays: tt.delays, stop: cancel},
				id: 7, every: time.Millisecond, within: time.Second, giveUp: time.Second, now: time.Now,
			}
			got, err := u.loop(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got.maxWrite = 0 // real time; not under test
			if got != tt.want {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
			seen := map[string]bool{}
			for _, h := range store.headlines {
				if seen[h] || !strings.HasPrefix(h, "Snow-day bench check ") {
					t.Errorf("headline %q repeated or malformed", h)
				}
				seen[h] = true
			}
		})
	}
}
