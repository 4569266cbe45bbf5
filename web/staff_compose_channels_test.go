package web

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

// checkedChannels lists the channel boxes ticked on a compose form.
var checkedChannel = regexp.MustCompile(`name="channels" type="checkbox" value="([^"]+)"[^>]*checked`)

func checkedChannels(body string) []string {
	var out []string
	for _, m := range checkedChannel.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestComposeDefaultChannels checks that a notice whose author ticks no
// channel goes to its category's default channels, as the form says, that
// "the residents' site and feeds only" sends it nowhere else, and that the
// form comes back with the defaults ticked after a mistake.
func TestComposeDefaultChannels(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	for name, cats := range map[string][]string{"masto": {"roads", "schools"}, "bsky": {"roads"}, "hook": nil} {
		cfg, _ := json.Marshal(map[string]any{"categories": cats})
		if _, err := f.db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon", Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	author := console{t, f, signIn(t, f, auth.Author)}

	form := author.get("/staff/notices/new")
	for _, s := range []string{"If you tick no channel, it goes to the channels set up for its category", "<li>Roads: bsky, masto</li>", "<li>Schools: masto</li>", `value="site only" data-behaviour="exclusive"`} {
		if !strings.Contains(form.body, s) {
			t.Errorf("compose form does not say %q", s)
		}
	}
	if got := checkedChannels(form.body); len(got) != 0 {
		t.Errorf("a new notice's form ticks %v before a category is chosen", got)
	}

	for _, tc := range []struct {
		name     string
		channels []string
		want     []string // saved on the draft; nil with status 400
		status   int
	}{
		{"none ticked", nil, []string{"bsky", "masto"}, 303},
		{"chosen", []string{"hook"}, []string{"hook"}, 303},
		{"site only", []string{"site only"}, []string{}, 303},
		{"both", []string{"site only", "masto"}, nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := noticeForm("Route 1 gritted "+tc.name, "")
			v["channels"] = tc.channels
			r := author.post("/staff/notices", v)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%.2000s", r.status, tc.status, r.body)
			}
			if tc.status != 303 {
				if !strings.Contains(r.body, `href="#channels"`) {
					t.Errorf("no error for the channels: %.2000s", r.body)
				}
				return
			}
			id, _ := strconv.ParseInt(idInPath(t, r.header.Get("Location")), 10, 64)
			it, err := f.srv.deps.Desk.Item(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(it.Content.Channels, tc.want) && (len(tc.want) != 0 || len(it.Content.Channels) != 0) {
				t.Errorf("draft goes to %v, want %v", it.Content.Channels, tc.want)
			}
			// Changing the draft shows what was chosen, "site only"
			// included, so saving again keeps it.
			edit := author.get(itemPath(id) + "/edit")
			want := tc.want
			if len(want) == 0 {
				want = []string{"site only"}
			}
			if got := checkedChannels(edit.body); !slices.Equal(got, want) {
				t.Errorf("edit form ticks %v, want %v", got, want)
			}
		})
	}

	// After a mistake elsewhere the form comes back with the category's
	// defaults ticked.
	v := noticeForm("", "")
	r := author.post("/staff/notices", v)
	if r.status != 400 {
		t.Fatalf("headline missing: %d", r.status)
	}
	if got := checkedChannels(r.body); !slices.Equal(got, []string{"bsky", "masto"}) {
		t.Errorf("after an error the form ticks %v, want the roads defaults", got)
	}
}
