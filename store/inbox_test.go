package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func incoming(ext, author, text string, at time.Time) inbox.Incoming {
	return inbox.Incoming{Channel: "masto", Kind: inbox.KindMention, ExternalID: ext, ThreadRef: "post-1",
		Author: author, AuthorName: "A Resident", Text: text, ReceivedAt: at}
}

// TestIngestThreadsAndIsIdempotent stores messages from two residents,
// threads each resident's into one conversation, ignores repeats and
// reopens a closed conversation when the resident writes again.
func TestIngestThreadsAndIsIdempotent(t *testing.T) {
	t0 := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SetClock(func() time.Time { return t0.Add(time.Hour) })
		id1, created, err := db.Ingest(ctx, incoming("m1", "@ann@social.example", "Is Holy Trinity open?", t0))
		if err != nil || !created {
			t.Fatalf("first ingest = %d %v %v", id1, created, err)
		}
		again, created, err := db.Ingest(ctx, incoming("m1", "@ann@social.example", "changed text is ignored", t0.Add(time.Minute)))
		if err != nil || created || again != id1 {
			t.Fatalf("repeat ingest = %d %v %v; want %d, not created", again, created, err, id1)
		}
		id2, _, err := db.Ingest(ctx, incoming("m2", "@ann@social.example", "Hello?", t0.Add(10*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		id3, _, err := db.Ingest(ctx, incoming("m3", "@bob@social.example", "Bins?", t0.Add(5*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		m1, err := db.Message(ctx, id1)
		if err != nil || m1.Text != "Is Holy Trinity open?" || !m1.ReceivedAt.Equal(t0) || m1.ThreadRef != "post-1" {
			t.Fatalf("message 1 = %+v %v", m1, err)
		}
		m2, _ := db.Message(ctx, id2)
		m3, _ := db.Message(ctx, id3)
		if m2.ConversationID != m1.ConversationID || m3.ConversationID == m1.ConversationID {
			t.Fatalf("conversations: ann %d,%d bob %d", m1.ConversationID, m2.ConversationID, m3.ConversationID)
		}
		c, err := db.Conversation(ctx, m1.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != inbox.StatusOpen || c.AwaitingSince == nil || !c.AwaitingSince.Equal(t0) || !c.LastMessageAt.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("conversation = %+v; want open, awaiting since the first message, last message the second", c)
		}
		msgs, err := db.Messages(ctx, c.ID)
		if err != nil || len(msgs) != 2 || msgs[0].ID != id1 || msgs[1].ID != id2 {
			t.Errorf("messages = %+v %v", msgs, err)
		}
		if _, err := db.Conversation(ctx, 9999); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("missing conversation: %v", err)
		}
	})
}

func TestIngestRefusesIncompleteMessages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, in := range []inbox.Incoming{
			{Kind: "mention", ExternalID: "1", Author: "a"},
			{Channel: "masto", Kind: "shout", ExternalID: "1", Author: "a"},
			{Channel: "masto", Kind: "mention", Author: "a"},
			{Channel: "masto", Kind: "mention", ExternalID: "1", Author: "  "},
		} {
			if _, _, err := db.Ingest(ctx, in); signpost.ErrorCode(err) != signpost.EINVALID {
				t.Errorf("Ingest(%+v) = %v; want EINVALID", in, err)
			}
		}
	})
}

// TestIngestConcurrent ingests the same batch from several goroutines on
// separate connections at once, as two servers polling one account would:
// every message is stored exactly once and each resident has one
// conversation.
func TestIngestConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n, nodes = 30, 4
		t0 := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)
		var created sync.Map
		var wg sync.WaitGroup
		errs := make(chan error, nodes*n)
		for node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					// Each node walks the batch from a different place.
					k := (i + node*7) % n
					id, isNew, err := db.Ingest(ctx, incoming(fmt.Sprintf("m%d", k), fmt.Sprintf("@r%d@x.example", k%3), "text", t0.Add(time.Duration(k)*time.Minute)))
					if err != nil {
						errs <- err
						continue
					}
					if isNew {
						if _, dup := created.LoadOrStore(k, id); dup {
							errs <- fmt.Errorf("message m%d created twice", k)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		convs := map[int64]int{}
		for k := range n {
			v, ok := created.Load(k)
			if !ok {
				t.Fatalf("message m%d never reported created", k)
			}
			m, err := db.Message(ctx, v.(int64))
			if err != nil {
				t.Fatal(err)
			}
			convs[m.ConversationID]++
		}
		if len(convs) != 3 {
			t.Errorf("conversations = %v; want 3 (one per resident)", convs)
		}
	})
}

func TestSourceCursor(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if c, err := db.SourceCursor(ctx, "mastodon:northdale"); err != nil || c != "" {
			t.Fatalf("fresh cursor = %q %v", c, err)
		}
		for _, want := range []string{"110", "245"} {
			if err := db.SaveSourceCursor(ctx, "mastodon:northdale", want); err != nil {
				t.Fatal(err)
			}
			if c, err := db.SourceCursor(ctx, "mastodon:northdale"); err != nil || c != want {
				t.Errorf("cursor = %q %v; want %q", c, err, want)
			}
		}
		if c, _ := db.SourceCursor(ctx, "bluesky:northdale"); c != "" {
			t.Errorf("another source's cursor = %q", c)
		}
		if err := db.SaveSourceCursor(ctx, " ", "1"); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("blank source: %v", err)
		}
	})
}

// TestInboxLifecycle walks conversations through triage, the queue,
// assignment, notes, replies (approval, sending, counting), statuses and
// statistics, on both engines.
func TestInboxLifecycle(t *testing.T) {
	t0 := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0.Add(time.Hour)
		db.SetClock(func() time.Time { return now })
		ann, _, _ := db.Ingest(ctx, incoming("a1", "@ann@x", "Is Holy Trinity Primary open?", t0))
		bob, _, _ := db.Ingest(ctx, incoming("b1", "@bob@x", "My neighbour has not been seen for days", t0.Add(10*time.Minute)))
		cat, _, _ := db.Ingest(ctx, incoming("c1", "@cat@x", "Bins?", t0.Add(-time.Hour)))

		claimed, err := db.ClaimUntriaged(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claimed %d %v; want 3", len(claimed), err)
		}
		if again, _ := db.ClaimUntriaged(ctx, 10, time.Minute); len(again) != 0 {
			t.Errorf("claimed messages handed out again: %d", len(again))
		}
		now = now.Add(2 * time.Minute) // the claims go stale: a server died
		if again, _ := db.ClaimUntriaged(ctx, 1, time.Minute); len(again) != 1 {
			t.Errorf("stale claims not handed out again: %d", len(again))
		}
		must(t, db.SaveTriage(ctx, ann, inbox.Triage{Category: "schools", Places: []inbox.PlaceMatch{{Kind: "school", ID: "142316", Name: "Holy Trinity Primary"}}, Notices: []int64{7}}))
		must(t, db.SaveTriage(ctx, bob, inbox.Triage{Category: "other", Flags: []string{"safeguarding"}, Urgent: true}))
		must(t, db.SaveTriage(ctx, cat, inbox.Triage{Category: "waste"}))
		if left, _ := db.ClaimUntriaged(ctx, 10, 0); len(left) != 0 {
			t.Errorf("triaged messages claimed: %d", len(left))
		}
		m, _ := db.Message(ctx, ann)
		if m.Category != "schools" || len(m.Places) != 1 || m.Places[0].Name != "Holy Trinity Primary" || len(m.Notices) != 1 || m.Notices[0] != 7 || m.TriagedAt == nil {
			t.Errorf("triaged message = %+v", m)
		}

		// Urgent first, then the longest waiting.
		q, err := db.Queue(ctx, store.QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		order := []string{}
		for _, c := range q {
			order = append(order, c.Author)
		}
		if fmt.Sprint(order) != "[@bob@x @cat@x @ann@x]" || !q[0].Urgent || fmt.Sprint(q[0].Flags) != "[safeguarding]" || q[2].Category != "schools" {
			t.Errorf("queue = %v %+v", order, q)
		}

		bm, _ := db.Message(ctx, bob)
		am, _ := db.Message(ctx, ann)
		must(t, db.MarkEscalated(ctx, bob))
		var note inbox.Note
		var risky, plain inbox.Reply
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error {
			note = inbox.Note{ConversationID: am.ConversationID, Author: "user:officer@northdale.gov.uk", Text: "Checked with the school"}
			risky = inbox.Reply{ConversationID: bm.ConversationID, MessageID: bob, Text: "risky", Author: "user:a@x", State: inbox.ReplyApproval, Flags: []string{"personal-data"}}
			notice := int64(7)
			plain = inbox.Reply{ConversationID: am.ConversationID, MessageID: ann, Text: "It is closed today", Author: "user:a@x", State: inbox.ReplyQueued, NoticeID: &notice}
			return errors.Join(tx.AddNote(ctx, &note), tx.AddReply(ctx, &risky), tx.AddReply(ctx, &plain),
				tx.AssignConversation(ctx, am.ConversationID, "team:schools"))
		}))
		if notes, _ := db.Notes(ctx, am.ConversationID); len(notes) != 1 || notes[0].Text != "Checked with the school" {
			t.Errorf("notes = %+v", notes)
		}
		if mine, _ := db.Queue(ctx, store.QueueFilter{Assignee: "team:schools"}); len(mine) != 1 || mine[0].ID != am.ConversationID {
			t.Errorf("assigned queue = %+v", mine)
		}
		err = db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.AssignConversation(ctx, am.ConversationID, "bob") })
		if signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("assign to a bare name: %v", err)
		}
		waiting, _ := db.RepliesInState(ctx, inbox.ReplyApproval)
		if len(waiting) != 1 || waiting[0].ID != risky.ID || fmt.Sprint(waiting[0].Flags) != "[personal-data]" {
			t.Errorf("awaiting approval = %+v", waiting)
		}
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.DecideReply(ctx, risky.ID, false, "user:b@x") }))
		err = db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.DecideReply(ctx, risky.ID, true, "user:c@x") })
		if signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("deciding twice: %v", err)
		}

		// Sending: the first answer is counted once, however often the
		// job marks it sent.
		now = t0.Add(90 * time.Minute)
		for range 2 {
			must(t, db.MarkReplySent(ctx, plain.ID, "ext-1", "schools", time.UTC))
		}
		r, _ := db.Reply(ctx, plain.ID)
		if r.State != inbox.ReplySent || r.ExternalID != "ext-1" || r.SentAt == nil || *r.NoticeID != 7 {
			t.Errorf("sent reply = %+v", r)
		}
		c, _ := db.Conversation(ctx, am.ConversationID)
		if c.Status != inbox.StatusWaiting || c.AwaitingSince != nil {
			t.Errorf("answered conversation = %+v", c)
		}
		d, err := db.ShiftData(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		counted := 0
		for _, ct := range d.Contacts {
			if ct.Channel == store.OwnChannelPrefix+"masto" && ct.Category == "schools" {
				counted += ct.Count
			}
		}
		if counted != 1 {
			t.Errorf("answered enquiries counted %d times; want once (%+v)", counted, d.Contacts)
		}

		// Closing records a resolution; a new message reopens.
		now = t0.Add(3 * time.Hour)
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.SetConversationStatus(ctx, am.ConversationID, inbox.StatusClosed) }))
		stats, err := db.InboxStats(ctx, t0)
		if err != nil || len(stats) != 1 {
			t.Fatalf("stats = %+v %v", stats, err)
		}
		if s := stats[0]; s.Channel != "masto" || s.Category != "schools" || s.Answered != 1 || s.MedianResponse != 90*time.Minute || s.Closed != 1 || s.MedianResolution != 3*time.Hour {
			t.Errorf("stats = %+v", s)
		}
		if _, _, err := db.Ingest(ctx, incoming("a2", "@ann@x", "And tomorrow?", t0.Add(4*time.Hour))); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Conversation(ctx, am.ConversationID)
		if c.Status != inbox.StatusOpen || c.ClosedAt != nil || !c.OpenedAt.Equal(t0.Add(4*time.Hour)) || c.AwaitingSince == nil {
			t.Errorf("reopened conversation = %+v", c)
		}
		err = db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.SetConversationStatus(ctx, am.ConversationID, "done") })
		if signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("unknown status: %v", err)
		}
	})
}

func TestSavedReplies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := inbox.SavedReply{Title: "Gritting", Body: "Priority routes are gritted first."}
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.PutSavedReply(ctx, &a) }))
		dup := inbox.SavedReply{Title: "Gritting", Body: "x"}
		if err := db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.PutSavedReply(ctx, &dup) }); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("duplicate title: %v", err)
		}
		if err := db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.PutSavedReply(ctx, &inbox.SavedReply{Title: "Empty"}) }); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("empty body: %v", err)
		}
		a.Body = "Priority 1 routes first."
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.PutSavedReply(ctx, &a) }))
		all, _ := db.SavedReplies(ctx)
		if len(all) != 1 || all[0].Body != "Priority 1 routes first." {
			t.Errorf("saved replies = %+v", all)
		}
		must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error { _, err := tx.DeleteSavedReply(ctx, a.ID); return err }))
		if err := db.UpdateInbox(ctx, func(tx *store.Tx) error { _, err := tx.DeleteSavedReply(ctx, a.ID); return err }); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

// TestPersonalData covers redaction, subject access and both retention
// modes.
func TestPersonalData(t *testing.T) {
	t0 := time.Date(2025, 1, 6, 7, 0, 0, 0, time.UTC)
	for _, anonymise := range []bool{false, true} {
		t.Run(fmt.Sprint("anonymise=", anonymise), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				db.SetClock(func() time.Time { return t0.Add(400 * 24 * time.Hour) })
				old, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "form", Kind: "form", ExternalID: "f1", Author: "Ann@Example.org", AuthorName: "Ann", Text: "Old question", ReceivedAt: t0})
				recent, _, _ := db.Ingest(ctx, inbox.Incoming{Channel: "form", Kind: "form", ExternalID: "f2", Author: "bob@example.org", Text: "New question", ReceivedAt: t0.Add(399 * 24 * time.Hour)})
				om, _ := db.Message(ctx, old)
				must(t, db.UpdateInbox(ctx, func(tx *store.Tx) error {
					r := inbox.Reply{ConversationID: om.ConversationID, MessageID: old, Text: "Answer", Author: "user:a@x", State: inbox.ReplyQueued}
					n := inbox.Note{ConversationID: om.ConversationID, Author: "user:a@x", Text: "Called her back"}
					return errors.Join(tx.AddReply(ctx, &r), tx.AddNote(ctx, &n), tx.SetConversationStatus(ctx, om.ConversationID, inbox.StatusClosed))
				}))
				sd, err := db.SubjectData(ctx, "ann@example.ORG")
				if err != nil || len(sd.Conversations) != 1 || len(sd.Messages) != 1 || sd.Messages[0].Text != "Old question" || len(sd.Replies) != 1 || len(sd.Notes) != 1 {
					t.Fatalf("subject data = %+v %v", sd, err)
				}
				if _, err := db.SubjectData(ctx, " "); signpost.ErrorCode(err) != signpost.EINVALID {
					t.Errorf("blank subject: %v", err)
				}

				var pc store.PurgeCounts
				must(t, db.UpdateInbox(ctx, func(tx *store.Tx) (err error) {
					pc, err = tx.PurgeConversations(ctx, t0.Add(30*24*time.Hour), anonymise)
					return err
				}))
				if pc != (store.PurgeCounts{Conversations: 1, Messages: 1, Replies: 1, Notes: 1}) {
					t.Errorf("purge counts = %+v", pc)
				}
				if sd, _ := db.SubjectData(ctx, "ann@example.org"); len(sd.Conversations)+len(sd.Messages) != 0 {
					t.Errorf("after retention the resident is still found: %+v", sd)
				}
				m, err := db.Message(ctx, old)
				if anonymise {
					if err != nil || m.Text != "" || m.AnonymisedAt == nil || m.Author == "ann@example.org" {
						t.Errorf("anonymised message = %+v %v", m, err)
					}
				} else if signpost.ErrorCode(err) != signpost.ENOTFOUND {
					t.Errorf("deleted message still there: %+v %v", m, err)
				}
				if m, _ := db.Message(ctx, recent); m.Text != "New question" {
					t.Errorf("a message inside the retention period was touched: %+v", m)
				}
				// A second run finds nothing more.
				must(t, db.UpdateInbox(ctx, func(tx *store.Tx) (err error) {
					pc, err = tx.PurgeConversations(ctx, t0.Add(30*24*time.Hour), anonymise)
					return err
				}))
				if pc != (store.PurgeCounts{}) {
					t.Errorf("second purge = %+v", pc)
				}

				// Redaction blanks the text once.
				before, err := redact(ctx, db, recent)
				if err != nil || before.Text != "New question" {
					t.Fatalf("redact = %+v %v", before, err)
				}
				if m, _ := db.Message(ctx, recent); m.Text != "" || m.RedactedAt == nil {
					t.Errorf("redacted message = %+v", m)
				}
				if _, err := redact(ctx, db, recent); signpost.ErrorCode(err) != signpost.ECONFLICT {
					t.Errorf("redacting twice: %v", err)
				}
			})
		})
	}
}

func redact(ctx context.Context, db *store.DB, id int64) (m inbox.Message, err error) {
	err = db.UpdateInbox(ctx, func(tx *store.Tx) error {
		m, err = tx.RedactMessage(ctx, id)
		return err
	})
	return m, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
