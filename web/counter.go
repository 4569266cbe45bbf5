package web

import (
	"context"
	"sync"
	"time"

	"github.com/signpost-uk/signpost"
)

// Channels a request is counted under.
const (
	channelWeb  = "web"
	channelFeed = "feed"
	channelAPI  = "api"
)

// contactBatch adds up digital contacts in memory so that counting costs a
// request one map increment; Run flushes the totals to the ContactCounter.
type contactBatch struct {
	mu     sync.Mutex
	counts map[contactKey]int
}

type contactKey struct {
	day      string // YYYY-MM-DD in the council's timezone
	channel  string
	category string
}

func newContactBatch() *contactBatch {
	return &contactBatch{counts: map[contactKey]int{}}
}

// count records one contact; it never blocks on I/O and never fails.
func (s *Server) count(channel string, category signpost.Category) {
	if s.counts == nil {
		return
	}
	k := contactKey{day: s.today(), channel: channel, category: category.ContactCategory()}
	s.counts.mu.Lock()
	s.counts.counts[k]++
	s.counts.mu.Unlock()
}

// flushCounts hands the totals to the counter. Counts that fail to save are
// put back for the next flush rather than lost.
func (s *Server) flushCounts(ctx context.Context) {
	if s.counts == nil {
		return
	}
	s.counts.mu.Lock()
	batch := s.counts.counts
	s.counts.counts = make(map[contactKey]int, len(batch))
	s.counts.mu.Unlock()
	for k, n := range batch {
		day, err := time.ParseInLocation(time.DateOnly, k.day, s.loc)
		if err == nil {
			err = s.deps.Counter.CountContacts(ctx, day, k.channel, k.category, n)
		}
		if err != nil {
			s.log.Warn("count contacts failed", "channel", k.channel, "category", k.category, "n", n, "err", err)
			s.counts.mu.Lock()
			s.counts.counts[k] += n
			s.counts.mu.Unlock()
		}
	}
}

// dayStamp is today's date in the council's timezone and the instants it
// runs between, so count formats a date once a day, not once a request.
type dayStamp struct {
	day        string
	start, end time.Time
}

func (s *Server) today() string {
	now := s.now()
	if d := s.day.Load(); d != nil && !now.Before(d.start) && now.Before(d.end) {
		return d.day
	}
	local := now.In(s.loc)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.loc)
	d := &dayStamp{day: start.Format(time.DateOnly), start: start, end: start.AddDate(0, 0, 1)}
	s.day.Store(d)
	return d.day
}
