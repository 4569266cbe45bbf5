// Command updater plays the comms team during the snow-day benchmark
// (bench/snowday.sh). While wrk loads the server it changes one notice's
// headline once a second, writing through the store as a second process
// sharing the database would, and checks that every change shows on the
// notice page and in the Atom feed within a deadline. It stops on SIGINT or
// SIGTERM and prints one machine-readable line:
//
//	UPDATER notice=12 updates=9 visible=9 late=0 unseen=0 max_delay_ms=412.3 mean_delay_ms=201.7 max_write_ms=8.1
//
// A delay runs from the moment the update's commit returns until both pages
// carry the new headline. late counts updates seen after the deadline, unseen
// those not seen before giving up; both are misses.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "updater:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("updater", flag.ContinueOnError)
	dsn := fs.String("db", "", "the database the server reads (SQLite path or postgres:// URL)")
	base := fs.String("base", "", "the server's base URL, e.g. http://127.0.0.1:8080")
	id := fs.Int64("notice", 0, "notice to update (default: the most recently updated open notice)")
	every := fs.Duration("every", time.Second, "how often to update the notice")
	within := fs.Duration("within", time.Second, "an update must be visible this soon after its commit")
	giveUp := fs.Duration("give-up", 5*time.Second, "stop looking for an update after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" || *base == "" {
		return errors.New("--db and --base are required")
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if *id == 0 {
		open, err := db.Notices(ctx, signpost.NoticeFilter{Limit: 1})
		if err != nil {
			return fmt.Errorf("find a notice to update: %w", err)
		}
		if len(open) == 0 {
			return errors.New("no open notice to update")
		}
		*id = open[0].ID
	}
	base2 := strings.TrimRight(*base, "/")
	chk := &checker{
		client: &http.Client{Timeout: 2 * time.Second},
		urls:   []string{fmt.Sprintf("%s/notices/%d", base2, *id), base2 + "/feeds/notices.atom"},
		poll:   10 * time.Millisecond,
	}
	u := &updater{notices: db, check: chk, id: *id, every: *every, within: *within, giveUp: *giveUp, now: time.Now}
	res, err := u.loop(ctx)
	fmt.Fprintln(stdout, res)
	return err
}

// noticeEditor is the part of the store the updater needs.
type noticeEditor interface {
	Notice(ctx context.Context, id int64) (signpost.Notice, error)
	UpdateNotice(ctx context.Context, id int64, in signpost.NoticeInput) (signpost.Notice, error)
}

// visibilityChecker reports how long after start the headline appeared, or
// false if it did not before ctx ended.
type visibilityChecker interface {
	waitVisible(ctx context.Context, headline string, start time.Time) (time.Duration, bool)
}

type updater struct {
	notices noticeEditor
	check   visibilityChecker
	id      int64
	every   time.Duration
	within  time.Duration
	giveUp  time.Duration
	now     func() time.Time
}

// result summarises a run.
type result struct {
	notice    int64
	updates   int
	visible   int
	late      int
	unseen    int
	maxDelay  time.Duration
	sumDelay  time.Duration
	maxWrite  time.Duration
	lastError string
}

func (r result) String() string {
	mean := 0.0
	if r.visible > 0 {
		mean = ms(r.sumDelay) / float64(r.visible)
	}
	return fmt.Sprintf("UPDATER notice=%d updates=%d visible=%d late=%d unseen=%d max_delay_ms=%.1f mean_delay_ms=%.1f max_write_ms=%.1f",
		r.notice, r.updates, r.visible, r.late, r.unseen, ms(r.maxDelay), mean, ms(r.maxWrite))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loop updates the notice every u.every until ctx ends, checking each update
// before the next. An update whose check is still running when ctx ends is
// checked to the end, so a stop never hides a miss.
func (u *updater) loop(ctx context.Context) (result, error) {
	res := result{notice: u.id}
	cur, err := u.notices.Notice(ctx, u.id)
	if err != nil {
		return res, fmt.Errorf("read notice %d: %w", u.id, err)
	}
	nonce := make([]byte, 3)
	rand.Read(nonce)
	tick := time.NewTicker(u.every)
	defer tick.Stop()
	for n := 1; ; n++ {
		// A random tag per run, so a headline left by an earlier run
		// cannot be mistaken for this one's.
		headline := fmt.Sprintf("Snow-day bench check %s-%d", hex.EncodeToString(nonce), n)
		in := signpost.NoticeInput{
			Category: cur.Category, Status: cur.Status, Places: cur.Places,
			Headline: headline, Body: cur.Body, Starts: cur.Starts, Ends: cur.Ends,
		}
		start := u.now()
		if _, err := u.notices.UpdateNotice(context.WithoutCancel(ctx), u.id, in); err != nil {
			return res, fmt.Errorf("update notice %d: %w", u.id, err)
		}
		committed := u.now()
		res.updates++
		res.maxWrite = max(res.maxWrite, committed.Sub(start))

		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), u.giveUp)
		d, ok := u.check.waitVisible(cctx, headline, committed)
		cancel()
		switch {
		case !ok:
			res.unseen++
		default:
			res.visible++
			res.sumDelay += d
			res.maxDelay = max(res.maxDelay, d)
			if d > u.within {
				res.late++
			}
		}

		// Checked before waiting, because a select with both cases ready
		// picks one at random and could start another update after a stop.
		if ctx.Err() != nil {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, nil
		case <-tick.C:
		}
	}
}

// checker polls pages until they all show a headline.
type checker struct {
	client *http.Client
	urls   []string
	poll   time.Duration
}

func (c *checker) waitVisible(ctx context.Context, headline string, start time.Time) (time.Duration, bool) {
	pending := append([]string(nil), c.urls...)
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	for {
		var still []string
		for _, u := range pending {
			if !c.shows(ctx, u, headline) {
				still = append(still, u)
			}
		}
		pending = still
		if len(pending) == 0 {
			return time.Since(start), true
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-tick.C:
		}
	}
}

// shows reports whether the page at url currently contains headline. Errors
// count as "not yet": the deadline decides.
func (c *checker) shows(ctx context.Context, url, headline string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return err == nil && resp.StatusCode == http.StatusOK && strings.Contains(string(body), headline)
}
