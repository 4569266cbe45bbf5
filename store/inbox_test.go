package store_test

import (
	"context"
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
