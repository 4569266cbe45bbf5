package channel

import (
	"strings"

	"golang.org/x/net/html"
)

// TextFromHTML turns HTML that carries a message (a Mastodon status's
// content, an HTML-only e-mail) into the plain text its author wrote:
// paragraphs and block ends become line breaks, <br> a line break, the
// spans Mastodon wraps around mentions and shortened links are read
// through so a link comes back whole, and what is never shown (head,
// style, script) is left out.
func TextFromHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	hidden := 0 // depth inside elements whose text is not shown
	paragraphs := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if hidden == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "head", "style", "script", "title":
				if tt == html.StartTagToken {
					hidden++
				}
			case "br":
				b.WriteByte('\n')
			case "p":
				if paragraphs > 0 {
					b.WriteString("\n\n")
				}
				paragraphs++
			case "div", "li", "tr":
				if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteByte('\n')
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "head", "style", "script", "title":
				hidden = max(hidden-1, 0)
			}
		}
	}
}
