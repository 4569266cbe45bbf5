package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/netsafe"
)

var secret = []byte("0123456789abcdef-webhook")

// receiver verifies every request as a partner system would and keeps the
// bodies it accepted, dropping repeated delivery ids.
type receiver struct {
	mu       sync.Mutex
	seen     map[string]bool
	accepted []Body
	status   int // answer this instead, when set
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := Verify(r.Header, body, time.Now(), secret); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.status != 0 {
		w.WriteHeader(rc.status)
		return
	}
	id := r.Header.Get(HeaderDelivery)
	if rc.seen[id] {
		return // already processed: acknowledge, do nothing
	}
	rc.seen[id] = true
	var b Body
	json.Unmarshal(body, &b)
	rc.accepted = append(rc.accepted, b)
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	rc := &receiver{seen: map[string]bool{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL + "/hook", Secret: secret, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	post := channel.Post{Parts: []string{"Schools closed"}, Link: "https://n.gov.uk/n/1", IdempotencyKey: "n1-r1-hook", Payload: map[string]any{"id": 1, "revision": 1}}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, post); err != nil { // a retry
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, r, channel.Post{Parts: []string{"Reopened"}, IdempotencyKey: "n1-r2-hook"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, r); err != nil {
		t.Fatal(err)
	}
	events := []string{}
	for _, b := range rc.accepted {
		events = append(events, b.Event)
	}
	want := []string{EventPing, EventPublished, EventUpdated, EventDeleted}
	if len(events) != len(want) {
		t.Fatalf("events = %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Errorf("event %d = %s, want %s", i, events[i], want[i])
		}
	}
	if rc.accepted[1].Text != "Schools closed" || rc.accepted[2].Replaces != "n1-r1-hook" || rc.accepted[1].Notice == nil {
		t.Errorf("bodies = %+v", rc.accepted)
	}

	rc.status = http.StatusGone
	if _, err := c.Publish(ctx, post); !channel.IsPermanent(err) {
		t.Errorf("410: %v", err)
	}
	rc.status = http.StatusServiceUnavailable
	if _, err := c.Publish(ctx, post); !channel.IsRetryable(err) {
		t.Errorf("503: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767682800, 0)
	body := []byte(`{"event":"notice.published"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign(secret, ts, body)
	old := []byte("the-previous-secret-value")
	tests := []struct {
		name    string
		ts, sig string
		body    []byte
		secrets [][]byte
		ok      bool
	}{
		{"valid", ts, good, body, [][]byte{secret}, true},
		{"4m59s old", strconv.FormatInt(now.Unix()-299, 10), Sign(secret, strconv.FormatInt(now.Unix()-299, 10), body), body, [][]byte{secret}, true},
		{"5m01s old: replay", strconv.FormatInt(now.Unix()-301, 10), Sign(secret, strconv.FormatInt(now.Unix()-301, 10), body), body, [][]byte{secret}, false},
		{"far future", strconv.FormatInt(now.Unix()+600, 10), Sign(secret, strconv.FormatInt(now.Unix()+600, 10), body), body, [][]byte{secret}, false},
		{"body changed", ts, good, []byte(`{"event":"notice.deleted"}`), [][]byte{secret}, false},
		{"timestamp changed", strconv.FormatInt(now.Unix()-1, 10), good, body, [][]byte{secret}, false},
		{"wrong secret", ts, good, body, [][]byte{old}, false},
		{"rotation: either secret", ts, Sign(old, ts, body) + ", " + good, body, [][]byte{secret}, true},
		{"receiver holds both", ts, Sign(old, ts, body), body, [][]byte{secret, old}, true},
		{"no signature", ts, "", body, [][]byte{secret}, false},
		{"bad timestamp", "yesterday", good, body, [][]byte{secret}, false},
		{"hex case changed", ts, "sha256=" + upper(good[7:]), body, [][]byte{secret}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set(HeaderTimestamp, tt.ts)
		h.Set(HeaderSignature, tt.sig)
		err := Verify(h, tt.body, now, tt.secrets...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestLoopbackRefusedWithoutAllowlist(t *testing.T) {
	t.Parallel()
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer srv.Close()
	client := netsafe.NewClient(netsafe.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c, err := New(Config{URL: srv.URL, Secret: secret, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), channel.Post{Parts: []string{"x"}})
	var refused *netsafe.RefusedError
	if !errors.As(err, &refused) || !channel.IsPermanent(err) || hit.Load() {
		t.Errorf("webhook to %s: err = %v (permanent=%v), reached=%v", srv.URL, err, channel.IsPermanent(err), hit.Load())
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{URL: "file:///etc/passwd", Secret: secret, Client: http.DefaultClient},
		{URL: "https://user:pw@partner.example/hook", Secret: secret, Client: http.DefaultClient},
		{URL: "https://partner.example/hook", Secret: []byte("short"), Client: http.DefaultClient},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%q) accepted", cfg.URL)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1767682800", "sha256=00", []byte("{}"))
	f.Add("-1", "sha256=,sha256=", []byte(""))
	now := time.Unix(1767682800, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if Verify(h, body, now, secret) == nil {
			// Only a correct HMAC passes, and forging one needs the secret.
			if Sign(secret, h.Get(HeaderTimestamp), body) != sig {
				found := false
				for _, s := range strings.Split(sig, ",") {
					found = found || strings.TrimSpace(s) == Sign(secret, h.Get(HeaderTimestamp), body)
				}
				if !found {
					t.Fatalf("accepted %q %q", ts, sig)
				}
			}
		}
	})
}
