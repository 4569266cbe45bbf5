package delivery

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/render"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestConnectorsAndRenderer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	keys, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	masto := fake.NewMastodon("tok")
	defer masto.Close()
	seal := func(name, token string) string {
		s, err := keys.Seal([]byte(token), []byte(name))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cfg, _ := json.Marshal(ChannelConfig{Server: masto.URL})
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon", Config: cfg, Credentials: seal("masto", "tok")}); err != nil {
		t.Fatal(err)
	}
	hook, _ := json.Marshal(ChannelConfig{URL: "https://partner.example/hook"})
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "hook", Type: "webhook", Config: hook, Credentials: seal("hook", "0123456789abcdef-secret")}); err != nil {
		t.Fatal(err)
	}

	cs := NewConnectors(db, keys, Net{Client: fake.Client()})
	a, err := cs.Get(ctx, "masto")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Health(ctx); err != nil {
		t.Fatalf("built connector does not work: %v", err)
	}
	if b, _ := cs.Get(ctx, "masto"); b != a {
		t.Error("connector rebuilt although nothing changed")
	}
	// Credentials sealed for another channel do not open here.
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "stolen", Type: "mastodon", Config: cfg, Credentials: seal("masto", "tok")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Get(ctx, "stolen"); err == nil {
		t.Error("credentials copied between channels opened")
	}

	n, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
		Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Schools closed", Body: "All schools are closed today."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateNotice(ctx, n.ID, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusResumed,
		Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Schools open again", Body: "Back to normal."}); err != nil {
		t.Fatal(err)
	}
	rend := Renderer(db, db, RenderConfig{
		Link: func(n signpost.Notice) string {
			return "https://northdale.gov.uk/notices/" + strconv.FormatInt(n.ID, 10)
		},
		Options: func(typ channel.Type) render.Options {
			return render.Options{Limit: render.LimitFor(typ), Hashtags: map[signpost.Category][]string{signpost.CategorySchools: {"NorthdaleSchools"}}}
		},
	})
	p1, err := rend(ctx, n.ID, 1, "masto")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p1.Parts[0], "Schools closed") || !strings.Contains(p1.Parts[0], "#NorthdaleSchools") || p1.Payload != nil || !p1.CreatedAt.Equal(n.UpdatedAt) {
		t.Errorf("revision 1 on mastodon: %+v", p1)
	}
	p2, err := rend(ctx, n.ID, 2, "hook")
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := p2.Payload.(map[string]any)
	if !strings.HasPrefix(p2.Parts[0], "Schools open again") || payload["revision"] != 2 || payload["status"] != signpost.StatusResumed {
		t.Errorf("revision 2 on webhook: %+v", p2)
	}
	if _, err := rend(ctx, n.ID, 3, "masto"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
		t.Errorf("missing revision: %v", err)
	}
}
