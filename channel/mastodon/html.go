package mastodon

import (
	"strings"

	"golang.org/x/net/html"
)

// TextFromHTML turns a status's HTML content into the plain text its
// author typed: paragraphs become blank lines, <br> a line break, and the
// spans Mastodon wraps around mentions and shortened links are read
// through, so a link comes back whole.
func TextFromHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	paragraphs := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "br":
				b.WriteByte('\n')
			case "p":
				if paragraphs > 0 {
					b.WriteString("\n\n")
				}
				paragraphs++
			}
		}
	}
}
