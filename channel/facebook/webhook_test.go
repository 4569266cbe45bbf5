package facebook

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/webhook_feed.json")
	if err != nil {
		t.Fatal(err)
	}
	good := fake.FacebookSignature("app-secret", body)
	modified := append([]byte(nil), body...)
	modified[len(modified)/2] ^= 1
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		ok     bool
	}{
		{"valid", "app-secret", body, good, true},
		{"missing", "app-secret", body, "", false},
		{"sha1 only", "app-secret", body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"not hex", "app-secret", body, "sha256=zz", false},
		{"wrong secret", "other-secret", body, good, false},
		{"replayed with a modified body", "app-secret", modified, good, false},
		{"truncated signature", "app-secret", body, good[:len(good)-2], false},
		{"no secret configured", "", body, fake.FacebookSignature("", body), false},
	}
	for _, tt := range tests {
		err := VerifySignature([]byte(tt.secret), tt.body, tt.header)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v is not ErrSignature", tt.name, err)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	feed, _ := os.ReadFile("testdata/webhook_feed.json")
	msgs, _ := os.ReadFile("testdata/webhook_messaging.json")
	tests := []struct {
		name string
		body []byte
		want []Event
	}{
		{"feed: new comments only, not edits, likes or the Page's own", feed, []Event{
			{PageID: "123456789", Kind: "comment", ID: "1000001_2000001", PostID: "123456789_1000001", ParentID: "123456789_1000001",
				From: "7001234567890", FromName: "Ann Resident", Text: "Is the tip at Moor Lane open today?", At: time.Unix(1767682790, 0).UTC()},
			{PageID: "123456789", Kind: "comment", ID: "1000001_2000003", PostID: "123456789_1000001", ParentID: "1000001_2000001",
				From: "7009876543210", FromName: "Bob Smith", Text: "And is the one at Hill Top?", At: time.Unix(1767682800, 0).UTC()},
		}},
		{"messaging: messages, not echoes or receipts", msgs, []Event{
			{PageID: "123456789", Kind: "message", ID: "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
				From: "25012345678901234", Text: "My bin wasn't collected on Oak Road", At: time.UnixMilli(1767682800123).UTC()},
			{PageID: "123456789", Kind: "message", ID: "m_photo0001", From: "25012345678901234", Text: "[attachment: image]", At: time.UnixMilli(1767682801000).UTC()},
		}},
	}
	for _, tt := range tests {
		got, err := ParseWebhook(tt.body)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %d events, want %d: %+v", tt.name, len(got), len(tt.want), got)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: event %d\n got %+v\nwant %+v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"object":"user","entry":[]}`, `{"object":"page","entry":[{"changes":[]}]}`} {
		if _, err := ParseWebhook([]byte(bad)); err == nil {
			t.Errorf("ParseWebhook(%q) accepted", bad)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"testdata/webhook_feed.json", "testdata/webhook_messaging.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"mid":"m_1"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParseWebhook(body)
		if err != nil {
			return
		}
		for _, e := range events {
			if e.PageID == "" || e.ID == "" || e.From == "" || e.From == e.PageID || (e.Kind != "comment" && e.Kind != "message") {
				t.Fatalf("event without what the inbox needs: %+v", e)
			}
		}
	})
}

func TestRepliesLookBeforeSendingAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := fake.NewFacebook("123456789", "page-token")
	t.Cleanup(srv.Close)
	c, err := New(Config{PageID: "123456789", Token: "page-token", Graph: srv.URL, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	post, err := c.Publish(ctx, channel.Post{Parts: []string{"Tip open until 4pm"}})
	if err != nil {
		t.Fatal(err)
	}
	comment, _ := srv.Comment(post.IDs[0], "700123", "Ann", "Which tip?", "")
	id, err := c.ReplyToComment(ctx, comment, "Moor Lane.", false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.ReplyToComment(ctx, comment, "Moor Lane.", true)
	if err != nil || again != id {
		t.Fatalf("retry: %q, %v; want %q", again, err, id)
	}
	if n := len(srv.Comments()); n != 2 {
		t.Errorf("%d comments, want the question and one reply", n)
	}
	if _, err := c.ReplyToComment(ctx, "1_404", "x", false); !channel.IsPermanent(err) {
		t.Errorf("deleted comment: %v", err)
	}

	_, _ = srv.Message("2501", "Bin not collected")
	mid, err := c.SendMessage(ctx, "2501", "Sorry, we'll send the crew back.", false)
	if err != nil {
		t.Fatal(err)
	}
	again, err = c.SendMessage(ctx, "2501", "Sorry, we'll send the crew back.", true)
	if err != nil || again != mid {
		t.Fatalf("retry: %q, %v; want %q", again, err, mid)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
	if _, err := c.SendMessage(ctx, "9999", "hello", false); !channel.IsPermanent(err) {
		t.Errorf("stranger: %v", err)
	}
	srv.Throttle(1)
	if _, err := c.SendMessage(ctx, "2501", "x", false); !channel.IsRetryable(err) {
		t.Errorf("throttled: %v", err)
	}
	srv.Fail(1, fake.Expired)
	if _, err := c.ReplyToComment(ctx, comment, "x", false); !channel.IsPermanent(err) {
		t.Errorf("expired token: %v", err)
	}
}
