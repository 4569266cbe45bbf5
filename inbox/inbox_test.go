package inbox

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
)

func TestNormalise(t *testing.T) {
	long := strings.Repeat("é", MaxTextBytes) // 2 bytes each: twice the limit
	cases := []struct {
		name string
		in   Incoming
		code string
		want func(Incoming) bool
	}{
		{"trims and keeps", Incoming{Channel: " masto ", Kind: "mention", ExternalID: " 1 ", Author: " @Ann@x "}, "",
			func(o Incoming) bool { return o.Channel == "masto" && o.ExternalID == "1" && o.Author == "@Ann@x" }},
		{"e-mail addresses lower-cased", Incoming{Channel: "email", Kind: "email", ExternalID: "<a@b>", Author: "Ann@Example.ORG"}, "",
			func(o Incoming) bool { return o.Author == "ann@example.org" }},
		{"long text cut at a character", Incoming{Channel: "form", Kind: "form", ExternalID: "f1", Author: "a@b.c", Text: long}, "",
			func(o Incoming) bool {
				return len(o.Text) <= MaxTextBytes && utf8.ValidString(o.Text) && len(o.Text) > MaxTextBytes-2
			}},
		{"invalid UTF-8 replaced", Incoming{Channel: "c", Kind: "direct", ExternalID: "1", Author: "a", Text: "ok\xff"}, "",
			func(o Incoming) bool { return o.Text == "ok\uFFFD" }},
		{"no channel", Incoming{Kind: "mention", ExternalID: "1", Author: "a"}, signpost.EINVALID, nil},
		{"unknown kind", Incoming{Channel: "c", Kind: "shout", ExternalID: "1", Author: "a"}, signpost.EINVALID, nil},
		{"no id", Incoming{Channel: "c", Kind: "mention", Author: "a"}, signpost.EINVALID, nil},
		{"no author", Incoming{Channel: "c", Kind: "mention", ExternalID: "1"}, signpost.EINVALID, nil},
		{"huge id", Incoming{Channel: "c", Kind: "mention", ExternalID: strings.Repeat("1", 600), Author: "a"}, signpost.EINVALID, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.in.Normalise()
			if signpost.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v; want code %q", err, tc.code)
			}
			if tc.want != nil && !tc.want(out) {
				t.Errorf("Normalise = %+v", out)
			}
		})
	}
}
