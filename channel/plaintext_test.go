package channel

import "testing"

func TestTextFromHTML(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`<p>Hello</p><p>World</p>`, "Hello\n\nWorld"},
		{`<p>one<br />two<br>three</p>`, "one\ntwo\nthree"},
		{`<p><span class="h-card"><a href="https://x/@northdale" class="u-url mention">@<span>northdale</span></a></span> is Oak Road gritted?</p>`, "@northdale is Oak Road gritted?"},
		{`<p><a href="https://example.org/abc"><span class="invisible">https://</span><span class="ellipsis">example.org/a</span><span class="invisible">bc</span></a></p>`, "https://example.org/abc"},
		{`<p>fish &amp; chips &lt;3</p>`, "fish & chips <3"},
		{`plain`, "plain"},
		{`<html><head><title>x</title><style>p{color:red}</style></head><body><div>Hi</div><div>Bye</div></body></html>`, "Hi\nBye"},
	}
	for _, tt := range tests {
		if got := TextFromHTML(tt.in); got != tt.want {
			t.Errorf("TextFromHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzTextFromHTML(f *testing.F) {
	f.Add(`<p>Hello<br/>there &amp; <a href="x"><span class="invisible">https://</span>x</a></p>`)
	f.Add(`<p><p></p>`)
	f.Fuzz(func(t *testing.T, s string) {
		out := TextFromHTML(s)
		if len(out) > 2*len(s)+2 {
			t.Errorf("text %d bytes from %d bytes of HTML", len(out), len(s))
		}
	})
}
