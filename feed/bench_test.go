package feed

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
)

// benchNotices is a busy snow day: 200 notices with realistic text.
func benchNotices() []signpost.Notice {
	ns := make([]signpost.Notice, 200)
	for i := range ns {
		n := testNotices()[i%3]
		n.ID = int64(i + 1)
		n.Headline = "Notice " + strconv.Itoa(i) + ": " + n.Headline
		n.Body = "Snow has closed the site & the car park. Staff will update this page by 10am; check back then.\n\nThank you for your patience."
		ns[i] = n
	}
	return ns
}

func BenchmarkEncoders(b *testing.B) {
	site := testSite(b)
	ns := benchNotices()
	round := signpost.Round{ID: "ND-R001", WardCode: "NDW01", Day: time.Tuesday, Streams: []string{"refuse", "garden"}}
	prev := ns[0]
	prev.Revision = 1
	cases := []struct {
		name string
		run  func() error
	}{
		{"Atom200", func() error { return Atom(io.Discard, site, testMeta(), ns) }},
		{"JSONFeed200", func() error { return JSONFeed(io.Discard, site, testMeta(), ns) }},
		{"CAPIndex200", func() error {
			return CAPIndex(io.Discard, site, testMeta(), ns, func(n signpost.Notice) string { return "/cap/" + strconv.FormatInt(n.ID, 10) + ".xml" })
		}},
		{"CAPAlert", func() error { return CAPAlert(io.Discard, site, ns[0], &prev, testAreas) }},
		{"RoundCalendar8Weeks", func() error { return RoundCalendar(io.Discard, site, round, ns, at("2026-11-25T06:00:00Z"), 8) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
