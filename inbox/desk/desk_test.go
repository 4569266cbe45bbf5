package desk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func screener(t *testing.T) *risk.Screener {
	t.Helper()
	sc, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// seed gives the store a school and a notice about it.
func seed(t *testing.T, db *store.DB) signpost.Notice {
	t.Helper()
	ctx := context.Background()
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutWard(ctx, signpost.Ward{Code: "NDW07", Name: "Brookside"}); err != nil {
			return err
		}
		return tx.PutSchool(ctx, signpost.School{URN: "142317", Name: "Holy Trinity Primary School", Phase: "primary", WardCode: "NDW07"})
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
		Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142317"}}, Headline: "Holy Trinity Primary is closed today"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newDesk(t *testing.T, db *store.DB, cfg Config) *Desk {
	t.Helper()
	cfg.DB, cfg.Places, cfg.Notices, cfg.Screener, cfg.Logger = db, db, db, screener(t), quiet()
	cfg.BaseURL = "https://northdale.example"
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mailer(mp *mailpit.Server) *SMTP {
	return &SMTP{Addr: mp.SMTPAddr, From: "Northdale Council <contact@northdale.example>", TLS: mp.TLS(), Username: "u", Password: "p"}
}

// flaky fails its first n sends, then passes them on.
type flaky struct {
	mu   sync.Mutex
	n    int
	next Mailer
}

func (f *flaky) Send(ctx context.Context, m Mail) error {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return channel.TransportError("mail: connect", io.ErrUnexpectedEOF)
	}
	return f.next.Send(ctx, m)
}

// TestTriageEscalates ingests a question a notice answers and a
// safeguarding concern: triage links the notice, makes the concern urgent
// and e-mails the duty officer once (through a real SMTP server), without
// the message in the e-mail; an alert that fails is retried.
func TestTriageEscalates(t *testing.T) {
	mp := mailpit.Start(t)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mp.DeleteAll(ctx)
		now := time.Now()
		db.SetClock(func() time.Time { return now })
		n := seed(t, db)
		fm := &flaky{n: 1, next: mailer(mp)}
		d := newDesk(t, db, Config{Mailer: fm, DutyOfficer: "duty@northdale.example"})
		q, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "masto", Kind: "mention", ExternalID: "1", Author: "@ann@x", Text: "Is holy trinity prim open today?"})
		concern := "My neighbour's carer hasn't been for three days and he can't get out of bed"
		s, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "masto", Kind: "direct", ExternalID: "2", Author: "@bob@x", Text: concern})

		if got, err := d.TriageOnce(ctx); err != nil || got != 2 {
			t.Fatalf("TriageOnce = %d %v", got, err)
		}
		qm, _ := db.Message(ctx, q)
		if qm.Category != "schools" || len(qm.Notices) != 1 || qm.Notices[0] != n.ID {
			t.Errorf("question triage = %+v; want schools and notice %d", qm, n.ID)
		}
		queue, _ := db.Queue(ctx, store.QueueFilter{})
		if len(queue) != 2 || queue[0].Author != "@bob@x" || !queue[0].Urgent {
			t.Fatalf("queue = %+v; want the concern first and urgent", queue)
		}
		// The first alert failed; it is retried once the claim expires.
		if sm, _ := db.Message(ctx, s); sm.EscalatedAt != nil {
			t.Fatalf("alert recorded although the mail server refused it")
		}
		d.TriageOnce(ctx)
		if c, _ := mp.Count(ctx); c != 0 {
			t.Fatalf("alert retried before the claim expired")
		}
		now = now.Add(2 * triageClaimExpiry)
		d.TriageOnce(ctx)
		msgs := mp.WaitCount(t, 1, 10*time.Second)
		full, err := mp.Message(ctx, msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.To[0].Address != "duty@northdale.example" || !strings.Contains(full.Subject, "Urgent") ||
			!strings.Contains(full.Text, fmt.Sprintf("/staff/inbox/%d", queue[0].ID)) || strings.Contains(full.Text, "carer") {
			t.Errorf("alert = %q %q", full.Subject, full.Text)
		}
		if sm, _ := db.Message(ctx, s); sm.EscalatedAt == nil {
			t.Errorf("alert not recorded")
		}
		now = now.Add(2 * triageClaimExpiry)
		d.TriageOnce(ctx)
		if c, _ := mp.Count(ctx); c != 1 {
			t.Errorf("duty officer e-mailed %d times; want once", c)
		}
	})
}

// recorder is a Replier that remembers every send by key, as a network
// with idempotency keys does: a repeat of a key returns the first id.
type recorder struct {
	mu       sync.Mutex
	sent     map[string]string
	calls    []inbox.OutgoingReply
	loseNext int // accept the reply but fail the answer, like a lost response
	refuse   bool
}

func (r *recorder) Reply(_ context.Context, ch string, out inbox.OutgoingReply) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, out)
	if r.refuse {
		return "", channel.Permanent("the status was deleted")
	}
	id, ok := r.sent[out.Key]
	if !ok {
		id = fmt.Sprintf("%s-%d", ch, len(r.sent)+1)
		r.sent[out.Key] = id
	}
	if r.loseNext > 0 {
		r.loseNext--
		return "", channel.TransportError("connection reset", io.EOF)
	}
	return id, nil
}

// startQueue runs the serve command's job queue on the store's own
// database with the reply worker registered, as serve does.
func startQueue(t *testing.T, db *store.DB, cfg WorkerConfig) (*jobs.Queue, <-chan *river.Event) {
	t.Helper()
	ctx := context.Background()
	workers := river.NewWorkers()
	// Real waits are seconds to minutes; the test keeps the decisions.
	cfg.Backoff = func(int) time.Duration { return 5 * time.Millisecond }
	if err := AddWorkers(workers, cfg); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.Open(ctx, db, jobs.Config{Workers: workers, Queues: map[string]int{ReplyQueue: 2}, PollInterval: 10 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	t.Cleanup(cancel)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return q, events
}

// await waits for n jobs to finish (completed or cancelled).
func await(t *testing.T, events <-chan *river.Event, n int) map[river.EventKind]int {
	t.Helper()
	seen := map[river.EventKind]int{}
	timeout := time.After(30 * time.Second)
	for seen[river.EventKindJobCompleted]+seen[river.EventKindJobCancelled] < n {
		select {
		case ev := <-events:
			seen[ev.Kind]++
		case <-timeout:
			t.Fatalf("timed out waiting for %d jobs; events %v", n, seen)
		}
	}
	return seen
}

// TestReplyExactlyOnce answers a resident through the reply worker: the
// first attempt's answer is lost after the network accepted it, the job
// retries with the same key, the reply is recorded once and the enquiry
// counted once, even when queued again.
func TestReplyExactlyOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := seed(t, db)
		rec := &recorder{sent: map[string]string{}, loseNext: 1}
		q, events := startQueue(t, db, WorkerConfig{Store: db, Replier: rec, Logger: quiet()})
		d := newDesk(t, db, Config{Enqueue: EnqueueWith(q)})
		id, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "masto", Kind: "mention", ExternalID: "109", ThreadRef: "100", Author: "@ann@x", Text: "Is Holy Trinity Primary open?"})
		d.TriageOnce(ctx)
		m, _ := db.Message(ctx, id)
		r, err := d.Reply(ctx, "user:officer@northdale.example", m.ConversationID, inbox.NoticeReply(n, d.NoticeURL(n.ID)), &n.ID)
		if err != nil || r.State != inbox.ReplyQueued {
			t.Fatalf("Reply = %+v %v", r, err)
		}
		seen := await(t, events, 1)
		if seen[river.EventKindJobFailed] != 1 {
			t.Errorf("events = %v; want one failed attempt first", seen)
		}
		// Queueing it again is refused as a duplicate; a job run again
		// anyway finds it sent.
		if res, err := q.Insert(ctx, ReplyArgs{ReplyID: r.ID}, nil); err != nil || !res.UniqueSkippedAsDuplicate {
			t.Errorf("queued again: %+v %v", res, err)
		}
		if err := NewReplyWorker(WorkerConfig{Store: db, Replier: rec}).Work(ctx, &river.Job[ReplyArgs]{Args: ReplyArgs{ReplyID: r.ID}}); err != nil {
			t.Errorf("rerun: %v", err)
		}
		got, _ := db.Reply(ctx, r.ID)
		if got.State != inbox.ReplySent || got.ExternalID != "masto-1" {
			t.Errorf("reply = %+v", got)
		}
		rec.mu.Lock()
		if len(rec.sent) != 1 || len(rec.calls) != 2 || rec.calls[0].Key != rec.calls[1].Key || rec.calls[0].InReplyTo != "109" ||
			rec.calls[0].ThreadRef != "100" || rec.calls[0].To != "@ann@x" || !strings.Contains(rec.calls[0].Text, d.NoticeURL(n.ID)) {
			t.Errorf("sends = %+v", rec.calls)
		}
		rec.mu.Unlock()
		sd, _ := db.ShiftData(ctx, time.Time{}, time.Time{})
		total := 0
		for _, c := range sd.Contacts {
			if c.Channel == store.OwnChannelPrefix+"masto" && c.Category == "schools" {
				total += c.Count
			}
		}
		if total != 1 {
			t.Errorf("digital contacts counted %d; want 1", total)
		}
	})
}

// TestReplyRules checks the screening rule: blocked, held for another
// person's approval, or sent; and a permanent refusal marks it failed.
func TestReplyRules(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	rec := &recorder{sent: map[string]string{}}
	q, events := startQueue(t, db, WorkerConfig{Store: db, Replier: rec, Logger: quiet()})
	d := newDesk(t, db, Config{Enqueue: EnqueueWith(q)})
	abuse := "You lot are idiots, when will the gritters come?"
	id, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "masto", Kind: "mention", ExternalID: "1", Author: "@ann@x", Text: abuse})
	d.TriageOnce(ctx)
	m, _ := db.Message(ctx, id)
	conv := m.ConversationID
	const author, approver = "user:author@x", "user:approver@x"

	for _, tc := range []struct{ text, code string }{
		{"", signpost.EINVALID},
		{strings.Repeat("a", 6000), signpost.ETOOLARGE},
		{"Call Mrs Jones on 07700 900123 about it", signpost.EINVALID},                  // high: blocked
		{"Sorry you think we are IDIOTS; the gritters come tonight", signpost.EINVALID}, // repeats the flagged abuse
	} {
		if _, err := d.Reply(ctx, author, conv, tc.text, nil); signpost.ErrorCode(err) != tc.code {
			t.Errorf("Reply(%.40q) = %v; want %s", tc.text, err, tc.code)
		}
	}
	if _, err := d.Reply(ctx, author, 999, "Hello", nil); signpost.ErrorCode(err) != signpost.ENOTFOUND {
		t.Errorf("reply to a missing conversation: %v", err)
	}
	held, err := d.Reply(ctx, author, conv, "Bloody hell, sorry, the gritters are late tonight", nil)
	if err != nil || held.State != inbox.ReplyApproval || fmt.Sprint(held.Flags) != "[profanity]" {
		t.Fatalf("medium-risk reply = %+v %v; want held for approval", held, err)
	}
	if _, err := d.Decide(ctx, author, held.ID, true); signpost.ErrorCode(err) != signpost.EFORBIDDEN {
		t.Errorf("author approving their own reply: %v", err)
	}
	if _, err := d.Decide(ctx, approver, held.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decide(ctx, "user:third@x", held.ID, false); signpost.ErrorCode(err) != signpost.ECONFLICT {
		t.Errorf("deciding twice: %v", err)
	}
	await(t, events, 1)
	if r, _ := db.Reply(ctx, held.ID); r.State != inbox.ReplySent || r.ApprovedBy != approver {
		t.Errorf("approved reply = %+v", r)
	}
	rec.mu.Lock()
	rec.refuse = true
	rec.mu.Unlock()
	gone, err := d.Reply(ctx, author, conv, "The gritters are out on priority routes tonight.", nil)
	if err != nil || gone.State != inbox.ReplyQueued {
		t.Fatalf("plain reply = %+v %v", gone, err)
	}
	await(t, events, 1)
	if r, _ := db.Reply(ctx, gone.ID); r.State != inbox.ReplyFailed || r.LastError == "" {
		t.Errorf("refused reply = %+v", r)
	}
	entries, _ := audit.List(ctx, db, audit.Filter{Target: fmt.Sprintf("inbox-conversation:%d", conv)})
	actions := map[audit.Action]int{}
	for _, e := range entries {
		actions[e.Action]++
		if strings.Contains(string(e.After)+string(e.Before), "gritters") {
			t.Errorf("audit entry %d holds reply text: %s", e.Seq, e.After)
		}
	}
	if actions[ActionReply] != 2 || actions[ActionApprove] != 1 {
		t.Errorf("audited actions = %v", actions)
	}
}

// TestFormReplyByMail answers an enquiry-form message by e-mail through a
// real SMTP server.
func TestFormReplyByMail(t *testing.T) {
	mp := mailpit.Start(t)
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	q, events := startQueue(t, db, WorkerConfig{Store: db, Mailer: mailer(mp), Logger: quiet()})
	d := newDesk(t, db, Config{Enqueue: EnqueueWith(q)})
	id, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: inbox.ChannelForm, Kind: inbox.KindForm, ExternalID: "form-1", Author: "Ann@Example.org", Text: "When are bins collected?"})
	m, _ := db.Message(ctx, id)
	r, err := d.Reply(ctx, "user:o@x", m.ConversationID, "Your bins are collected on Tuesdays.", nil)
	if err != nil {
		t.Fatal(err)
	}
	await(t, events, 1)
	msgs := mp.WaitCount(t, 1, 10*time.Second)
	full, _ := mp.Message(ctx, msgs[0].ID)
	if full.To[0].Address != "ann@example.org" || !strings.Contains(full.Text, "Tuesdays") || full.MessageID != r.Key+"@signpost.invalid" {
		t.Errorf("form answer = %+v", full)
	}
}

func TestConversationActionsAudited(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	d := newDesk(t, db, Config{})
	id, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "form", Kind: "form", ExternalID: "f1", Author: "ann@example.org", Text: "Secret detail"})
	m, _ := db.Message(ctx, id)
	c := m.ConversationID
	const who = "user:o@x"
	for _, err := range []error{
		d.Assign(ctx, who, c, "team:schools"),
		d.SetStatus(ctx, who, c, inbox.StatusWaiting),
		d.SetCategory(ctx, who, c, signpost.CategoryWaste),
		d.AddNote(ctx, who, c, "Rang back"),
		d.Redact(ctx, who, id),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetStatus(ctx, who, c, "done"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("bad status: %v", err)
	}
	if err := d.Assign(ctx, who, 999, ""); signpost.ErrorCode(err) != signpost.ENOTFOUND {
		t.Errorf("missing conversation: %v", err)
	}
	conv, _ := db.Conversation(ctx, c)
	if conv.Assignee != "team:schools" || conv.Status != inbox.StatusWaiting || conv.Category != "waste" {
		t.Errorf("conversation = %+v", conv)
	}
	data, err := d.Export(ctx, "user:admin@x", "ANN@example.org")
	if err != nil || len(data.Messages) != 1 || len(data.Notes) != 1 || data.Messages[0].Text != "" {
		t.Errorf("export = %+v %v", data, err)
	}
	entries, _ := audit.List(ctx, db, audit.Filter{})
	got := []string{}
	for _, e := range entries {
		got = append(got, string(e.Action))
		if strings.Contains(string(e.Before)+string(e.After)+e.Target, "Secret") || strings.Contains(e.Target, "ann@") {
			t.Errorf("audit entry %d holds personal data: %+v", e.Seq, e)
		}
	}
	want := "[inbox-assign inbox-status inbox-category inbox-note inbox-redact export]"
	if fmt.Sprint(got) != want {
		t.Errorf("audit = %v; want %s", got, want)
	}
	if entries[len(entries)-1].Target != "inbox-subject:"+SubjectKey("ann@example.org") {
		t.Errorf("export target = %s", entries[len(entries)-1].Target)
	}
	if _, err := d.Purge(ctx, "system:x", 0, false, time.Now()); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("purge with no period: %v", err)
	}
	pc, err := d.Purge(ctx, "system:x", time.Hour, true, time.Now().Add(48*time.Hour))
	if err != nil || pc.Conversations != 1 {
		t.Errorf("purge = %+v %v", pc, err)
	}
}
