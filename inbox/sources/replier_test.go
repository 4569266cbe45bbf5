package sources

import (
	"context"
	"errors"
	"testing"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/facebook"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// crashingLog is the store's reply log that fails to record the next
// finished reply, as a process dying right after the network answered.
type crashingLog struct {
	*store.DB
	failFinish int
}

func (l *crashingLog) FinishReplySend(ctx context.Context, key, id string) error {
	if l.failFinish > 0 {
		l.failFinish--
		return errors.New("killed")
	}
	return l.DB.FinishReplySend(ctx, key, id)
}

func TestReplierExactlyOnce(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		masto, msrv := newMastodon(t)
		sky, bsrv := newBluesky(t)
		own, _ := sky.Publish(ctx, channel.Post{Parts: []string{"Roads gritted"}})
		graph := fake.NewFacebook("123456789", "page-token")
		t.Cleanup(graph.Close)
		fb, err := facebook.New(facebook.Config{PageID: "123456789", Token: "page-token", Graph: graph.URL, Client: fake.Client()})
		if err != nil {
			t.Fatal(err)
		}
		page, _ := fb.Publish(ctx, channel.Post{Parts: []string{"Tip open"}})
		comment, _ := graph.Comment(page.IDs[0], "7001", "Ann", "Which tip?", "")
		mid, _ := graph.Message("2501", "Bin not collected")
		log := &crashingLog{DB: db}
		rp := &Replier{Connectors: conns{"masto": masto, "sky": sky, "fb": fb}, Log: log}

		dm := msrv.Mention("ann@example.social", "Ann", "Is the tip open?", "direct", "")
		post := bsrv.Mention("bob.bsky.social", "Bob", "Is Elm Street gritted?", own.IDs[0])
		tests := []struct {
			channel string
			reply   inbox.OutgoingReply
			sent    func() int
		}{
			{"masto", inbox.OutgoingReply{Key: "r1", InReplyTo: dm, To: "ann@example.social", Text: "Yes, until 4pm."}, func() int {
				n := 0
				for _, s := range msrv.Statuses() {
					if s.Acct == "" && s.InReplyToID == dm {
						n++
					}
				}
				return n
			}},
			{"sky", inbox.OutgoingReply{Key: "r2", InReplyTo: post, ThreadRef: own.IDs[0], To: "bob.bsky.social", Text: "Yes, this morning."}, func() int {
				n := 0
				for _, p := range bsrv.Posts() {
					if p.Record.Reply != nil && p.Record.Reply.Parent.URI == post && p.Record.Reply.Root.URI == own.IDs[0] {
						n++
					}
				}
				return n
			}},
			{"fb", inbox.OutgoingReply{Key: "r6", InReplyTo: comment, ThreadRef: page.IDs[0], To: "7001", Text: "Moor Lane."}, func() int {
				n := 0
				for _, c := range graph.Comments() {
					if c.ParentID == comment && c.From == "123456789" {
						n++
					}
				}
				return n
			}},
			{"fb", inbox.OutgoingReply{Key: "r7", InReplyTo: mid, ThreadRef: "2501", To: "2501", Text: "Sorry, the crew will come back."}, func() int {
				n := 0
				for _, m := range graph.Messages() {
					if m.FromPage && m.PSID == "2501" {
						n++
					}
				}
				return n
			}},
		}
		for _, tt := range tests {
			// The network takes the reply, then the process dies before
			// recording it.
			log.failFinish = 1
			if _, err := rp.Reply(ctx, tt.channel, tt.reply); err == nil {
				t.Fatalf("%s: the crash was not reported", tt.channel)
			}
			id, err := rp.Reply(ctx, tt.channel, tt.reply)
			if err != nil {
				t.Fatalf("%s: retry: %v", tt.channel, err)
			}
			// Once recorded, a retry does not reach the network at all.
			calls := msrv.Calls() + bsrv.Calls() + graph.Calls()
			again, err := rp.Reply(ctx, tt.channel, tt.reply)
			if err != nil || again != id || msrv.Calls()+bsrv.Calls()+graph.Calls() != calls {
				t.Errorf("%s: recorded retry: %q, %v, %d calls", tt.channel, again, err, msrv.Calls()+bsrv.Calls()+graph.Calls()-calls)
			}
			if n := tt.sent(); n != 1 {
				t.Errorf("%s: %d replies on the network, want 1", tt.channel, n)
			}
		}

		msrv.Fail(1, fake.RateLimited)
		_, err = rp.Reply(ctx, "masto", inbox.OutgoingReply{Key: "r3", InReplyTo: dm, Text: "x"})
		if d, ok := channel.RetryAfter(err); !channel.IsRetryable(err) || !ok || d <= 0 {
			t.Errorf("rate limited: %v", err)
		}
		if _, err := rp.Reply(ctx, "sky", inbox.OutgoingReply{Key: "r4", InReplyTo: "at://did:plc:gone/app.bsky.feed.post/3kzzzzzzzzzzz", Text: "x"}); !channel.IsPermanent(err) {
			t.Errorf("deleted post: %v, want permanent", err)
		}
		if _, err := rp.Reply(ctx, "nowhere", inbox.OutgoingReply{Key: "r5", InReplyTo: "1", Text: "x"}); err == nil {
			t.Error("unknown channel accepted")
		}
	})
}
