package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

const testAppSecret = "app-secret-for-tests"

func TestFacebookWebhook(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.CreateChannel(ctx, store.Channel{Name: "fb", Type: "facebook", Config: json.RawMessage(`{"page_id":"123456789"}`)}); err != nil {
		t.Fatal(err)
	}
	graph := fake.NewFacebook("123456789", "tok")
	defer graph.Close()
	commentID, comment := graph.Comment("123456789_1000001", "7001", "Ann Resident", "Is the tip open?", "")
	mid, message := graph.Message("2501", "Bin not collected")
	other := []byte(`{"object":"page","entry":[{"id":"999","time":1,"messaging":[{"sender":{"id":"5"},"recipient":{"id":"999"},"timestamp":1,"message":{"mid":"m_x","text":"hi"}}]}]}`)
	modified := bytes.Replace(comment, []byte("open"), []byte("shut"), 1)

	post := func(body []byte, sig string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/hooks/facebook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
	}{
		{"comment", comment, fake.FacebookSignature(testAppSecret, comment), 200},
		{"the same delivery again", comment, fake.FacebookSignature(testAppSecret, comment), 200},
		{"message", message, fake.FacebookSignature(testAppSecret, message), 200},
		{"a Page with no channel", other, fake.FacebookSignature(testAppSecret, other), 200},
		{"missing signature", comment, "", 401},
		{"signed with another secret", comment, fake.FacebookSignature("not-ours", comment), 401},
		{"replayed with the body modified", modified, fake.FacebookSignature(testAppSecret, comment), 401},
		{"signed but not a delivery", []byte(`{"object":"page"`), fake.FacebookSignature(testAppSecret, []byte(`{"object":"page"`)), 400},
		{"too large", bytes.Repeat([]byte(" "), maxWebhookBytes+1), "sha256=00", 413},
	}
	for _, tt := range tests {
		if rec := post(tt.body, tt.sig); rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, rec.Code, tt.status, rec.Body)
		}
	}
	// What arrived is in the inbox once, as the network described it.
	for _, want := range []inbox.Incoming{
		{Channel: "fb", Kind: inbox.KindComment, ExternalID: commentID, ThreadRef: "123456789_1000001", Author: "7001", AuthorName: "Ann Resident", Text: "Is the tip open?"},
		{Channel: "fb", Kind: inbox.KindDirect, ExternalID: mid, ThreadRef: "2501", Author: "2501", Text: "Bin not collected"},
	} {
		id, created, err := f.db.Ingest(ctx, want)
		if err != nil || created {
			t.Fatalf("%s was not ingested by the webhook (created now: %v, %v)", want.ExternalID, created, err)
		}
		got, err := f.db.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != want.Kind || got.ThreadRef != want.ThreadRef || got.Author != want.Author || got.AuthorName != want.AuthorName || got.Text != want.Text || got.ReceivedAt.IsZero() {
			t.Errorf("stored %+v, want %+v", got.Incoming, want)
		}
	}
	if _, created, _ := f.db.Ingest(ctx, inbox.Incoming{Channel: "fb", Kind: inbox.KindDirect, ExternalID: "m_x", Author: "5"}); !created {
		t.Error("a message for another Page was ingested")
	}

	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hooks/facebook?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=5", nil))
	if rec.Code != 403 {
		t.Errorf("wrong mode: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hooks/facebook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "1158201444" {
		t.Errorf("verify: %d %q", rec.Code, rec.Body)
	}
}
