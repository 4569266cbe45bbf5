package email

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Message
	}{
		{"plain_qp.eml", Message{MessageID: "CAF1234@mail.example.org", From: "ann@example.org", FromName: "Ann Resident",
			Subject: "Missed bin on Oak Road", Date: time.Date(2026, 1, 6, 7, 12, 0, 0, time.UTC),
			Text: "Our bin wasn’t collected on Oak Road — can someone come back? It’s the grey one.\n\nThanks, Ann"}},
		{"alternative_base64.eml", Message{MessageID: "reply-2@example.cymru", InReplyTo: "council-1@northdale.gov.uk",
			References: []string{"root-0@example.cymru", "council-1@northdale.gov.uk"}, From: "sian@example.cymru", FromName: "Sian Davies",
			Subject: "Re: Ysgol ar gau?", Date: time.Date(2026, 1, 6, 8, 0, 0, 0, time.UTC), Text: "Is Ysgol y Waun on gau heddiw? Diolch."}},
		{"html_only_windows1252.eml", Message{MessageID: "win-3@example.com", From: "bob@example.com", FromName: "Brown, Bob",
			Subject: "Café car park", Date: time.Date(2026, 1, 6, 9, 30, 0, 0, time.UTC),
			Text: "Café on the High Street – is the car park gritted?\n\nRegards"}},
		{"auto_reply.eml", Message{MessageID: "ooo-4@example.org", From: "ann@example.org", FromName: "Ann Resident",
			Subject: "Automatic reply: Missed bin", Text: "I am out of the office until Monday.", AutoReply: true}},
	}
	for _, tt := range tests {
		raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseMessage(raw)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if got.MessageID != tt.want.MessageID || got.InReplyTo != tt.want.InReplyTo || !slices.Equal(got.References, tt.want.References) ||
			got.From != tt.want.From || got.FromName != tt.want.FromName || got.Subject != tt.want.Subject ||
			!got.Date.Equal(tt.want.Date) || got.Text != tt.want.Text || got.AutoReply != tt.want.AutoReply {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
}

func TestParseMessageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, raw, want string }{
		{"no headers", "just text", "headers"},
		{"no sender", "Subject: hi\r\n\r\nbody", "From"},
		{"multipart without boundary", "From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\nbody", "boundary"},
		{"nested too deep", nested(12), "nested"},
	}
	for _, tt := range tests {
		_, err := ParseMessage([]byte(tt.raw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.want)
		}
	}
}

// nested is a message of n multiparts each inside the one before.
func nested(n int) string {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n", n)
	for i := n; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func FuzzParseMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@b.example\r\nContent-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: base64\r\n\r\nGyRCJEgbKEI=\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseMessage(raw)
		if err != nil {
			return
		}
		for _, s := range []string{m.Text, m.Subject, m.FromName, m.MessageID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 out of a parsed message: %q", s)
			}
		}
		if len(m.Text) > 4*maxBodyBytes {
			t.Fatalf("text of %d bytes", len(m.Text))
		}
		if strings.ContainsAny(m.MessageID, "<> \r\n") {
			t.Fatalf("message id %q", m.MessageID)
		}
	})
}
