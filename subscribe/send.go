package subscribe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/store"
)

// Queue is the River queue subscription sends run in, apart from channel
// deliveries so a large send never holds up a post to a network.
const Queue = "subscriptions"

// SendArgs is one job: send a revision to its subscribers with ids in
// [From, To]. The send records say who exactly; the range only splits
// the work.
type SendArgs struct {
	NoticeID int64 `json:"notice_id"`
	Revision int   `json:"revision"`
	From     int64 `json:"from"`
	To       int64 `json:"to"`
}

// Kind names the job type in River's table.
func (SendArgs) Kind() string { return "signpost_subscription_send" }

// InsertOpts puts sends in their own queue. A job that keeps failing
// (the SMTP server down) retries with River's backoff for about three
// days before giving up.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 25}
}

// FanOutPending fans out every published revision not yet handled and
// returns how many it handled.
func (s *Service) FanOutPending(ctx context.Context, q Inserter) (int, error) {
	done := 0
	for {
		refs, err := s.cfg.Store.UnfannedRevisions(ctx, 50)
		if err != nil || len(refs) == 0 {
			return done, err
		}
		c, err := s.catalogue(ctx)
		if err != nil {
			return done, err
		}
		for _, ref := range refs {
			if err := s.fanOut(ctx, q, c, ref); err != nil {
				return done, err
			}
			done++
		}
	}
}

func (s *Service) fanOut(ctx context.Context, q Inserter, c *catalogue, ref store.RevisionRef) error {
	n, err := s.revision(ctx, ref)
	if err != nil {
		return err
	}
	f := store.Fanout{Ref: ref, OnlyEarlierRecipients: n.RetractedAt != nil}
	f.Topics, f.AnyPlace = c.match(n)
	start := time.Now()
	count, claimed, err := s.cfg.Store.FanOut(ctx, f, func(tx *store.Tx, ids []int64) error {
		params := make([]river.InsertManyParams, 0, len(ids)/s.cfg.ChunkSize+1)
		for i := 0; i < len(ids); i += s.cfg.ChunkSize {
			last := ids[min(i+s.cfg.ChunkSize, len(ids))-1]
			params = append(params, river.InsertManyParams{Args: SendArgs{NoticeID: ref.NoticeID, Revision: ref.Revision, From: ids[i], To: last}})
		}
		_, err := q.InsertManyTx(ctx, tx, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("subscribe: fan out notice %d revision %d: %w", ref.NoticeID, ref.Revision, err)
	}
	if claimed {
		s.cfg.Logger.Info("subscribe: revision queued", "notice", ref.NoticeID, "revision", ref.Revision, "recipients", count, "took", time.Since(start))
	}
	return nil
}

// revision reads one revision of a notice, and whether a later revision
// retracted it.
func (s *Service) revision(ctx context.Context, ref store.RevisionRef) (signpost.Notice, error) {
	revs, err := s.cfg.Store.NoticeRevisions(ctx, ref.NoticeID)
	if err != nil {
		return signpost.Notice{}, err
	}
	for _, r := range revs {
		if r.Revision == ref.Revision {
			return r, nil
		}
	}
	return signpost.Notice{}, signpost.Errorf(signpost.ENOTFOUND, "notice %d has no revision %d", ref.NoticeID, ref.Revision)
}

func retractedLater(ctx context.Context, st Store, ref store.RevisionRef) (bool, error) {
	revs, err := st.NoticeRevisions(ctx, ref.NoticeID)
	if err != nil {
		return false, err
	}
	for _, r := range revs {
		if r.Revision > ref.Revision && r.RetractedAt != nil {
			return true, nil
		}
	}
	return false, nil
}

// Worker sends SendArgs jobs.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	svc *Service
}

// AddWorkers registers the subscription sender on the queue's workers.
func AddWorkers(workers *river.Workers, svc *Service) error {
	return river.AddWorkerSafely(workers, &Worker{svc: svc})
}

// Timeout bounds one job: a chunk at a slow configured rate takes long.
func (w *Worker) Timeout(job *river.Job[SendArgs]) time.Duration {
	d := 5 * time.Minute
	if r := w.svc.cfg.Rate; r > 0 {
		d += time.Duration(float64(job.Args.To-job.Args.From+1) / r * float64(time.Second))
	}
	return d
}

// markEvery is how many accepted messages are recorded at once: a crash
// resends at most this many (with the same Message-ID over SMTP; Notify
// finds them by reference and sends none again).
const markEvery = 50

// Work sends one run of a revision over one mail session.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	s, a := w.svc, job.Args
	ref := store.RevisionRef{NoticeID: a.NoticeID, Revision: a.Revision}
	todo, err := s.cfg.Store.PendingSends(ctx, ref, a.From, a.To)
	if err != nil || len(todo) == 0 {
		return err
	}
	n, err := s.revision(ctx, ref)
	if err != nil {
		return err
	}
	var drop []int64
	if n.RetractedAt != nil {
		// Only those who were sent the notice hear it was withdrawn.
		ids := make([]int64, len(todo))
		for i, r := range todo {
			ids[i] = r.SubscriberID
		}
		got, err := s.cfg.Store.ReceivedEarlier(ctx, ref, ids)
		if err != nil {
			return err
		}
		keep := todo[:0]
		for _, r := range todo {
			if got[r.SubscriberID] {
				keep = append(keep, r)
			} else {
				drop = append(drop, r.SubscriberID)
			}
		}
		todo = keep
	} else if later, err := retractedLater(ctx, s.cfg.Store, ref); err != nil {
		return err
	} else if later {
		// Withdrawn before it went: send nothing.
		for _, r := range todo {
			drop = append(drop, r.SubscriberID)
		}
		todo = nil
	}
	if err := s.cfg.Store.DropSends(ctx, ref, drop); err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	post := s.noticePost(n)
	sess, err := s.cfg.Mail.Open(ctx)
	if err != nil {
		return err
	}
	var sent, refused []int64
	flush := func() error {
		if err := s.cfg.Store.MarkSent(ctx, ref, sent); err != nil {
			return fmt.Errorf("subscribe: sent, but recording failed: %w", err)
		}
		sent = sent[:0]
		return nil
	}
	for i, r := range todo {
		if err := s.pace.wait(ctx); err != nil {
			sess.Close()
			return errors.Join(err, flush())
		}
		p := post
		// After a failed or killed attempt, the sends it made but had
		// not yet recorded come first (todo is in subscriber order, as
		// then): at most markEvery, and the one whose answer was lost.
		// Transports that can (Notify) look those up before sending.
		p.Retry = job.Attempt > 1 && i <= markEvery
		_, err := sess.Send(ctx, r.Email, p, s.manageURL(r.SubscriberID, r.Email))
		if err != nil && channel.IsPermanent(err) && channel.Code(err) == "recipient" {
			refused = append(refused, r.SubscriberID)
			continue
		}
		if err != nil {
			sess.Close()
			return errors.Join(err, flush())
		}
		sent = append(sent, r.SubscriberID)
		if len(sent) >= markEvery {
			if err := flush(); err != nil {
				sess.Close()
				return err
			}
		}
	}
	if err := flush(); err != nil {
		sess.Close()
		return err
	}
	if err := sess.Close(); err != nil {
		s.cfg.Logger.Warn("subscribe: closing the mail session", "err", err)
	}
	if len(refused) > 0 {
		s.cfg.Logger.Warn("subscribe: addresses refused by the mail server", "notice", a.NoticeID, "revision", a.Revision, "count", len(refused))
	}
	return s.cfg.Store.DropSends(ctx, ref, refused)
}

// noticePost is the e-mail for one revision.
func (s *Service) noticePost(n signpost.Notice) channel.Post {
	link := s.cfg.SiteURL + "/notices/" + strconv.FormatInt(n.ID, 10)
	p := channel.Post{Languages: []string{"en"}, Link: link,
		IdempotencyKey: fmt.Sprintf("signpost-subscription-n%d-r%d", n.ID, n.Revision)}
	switch {
	case n.RetractedAt != nil:
		p.Subject = "Withdrawn: " + n.Headline
		p.Parts = []string{s.cfg.CouncilName + " has withdrawn this notice. It was published in error: please ignore it.\n\n" + n.Headline}
		p.Link = ""
		return p
	case n.ClosedAt != nil:
		p.Subject = "Over: " + n.Headline
		p.Parts = []string{"This disruption is over.\n\n" + n.Headline}
		return p
	case n.Revision > 1:
		p.Subject = "Update: " + n.Headline
	default:
		p.Subject = n.Headline
	}
	text := n.Headline + "\n\nStatus: " + n.Status.Label()
	if n.Body != "" {
		text += "\n\n" + n.Body
	}
	p.Parts = []string{text + "\n\nRead it online and check for updates:"}
	return p
}

// pacer spaces sends evenly to a rate shared by every job in the process.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(perSecond float64) *pacer {
	p := &pacer{}
	if perSecond > 0 {
		p.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return p
}

// wait returns when the next message may go.
func (p *pacer) wait(ctx context.Context) error {
	if p.interval == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
