package feed

import (
	"bytes"
	"strings"
)

// xmlBuf writes XML by hand. The documents are small and fixed in shape, so
// this is simpler to read than struct tags, gives exact control over
// namespaces and xml:lang, and avoids reflection on a hot path.
type xmlBuf struct {
	bytes.Buffer
}

var xmlEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;",
	// Newlines and tabs survive in text but would be normalised to spaces
	// in attributes; character references keep them either way.
	"\n", "&#xA;", "\t", "&#x9;",
)

var xmlTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// text writes s cleaned and escaped as character data.
func (b *xmlBuf) text(s string) { xmlTextEscaper.WriteString(b, clean(s)) }

// attr writes s cleaned and escaped as an attribute value.
func (b *xmlBuf) attr(s string) { xmlEscaper.WriteString(b, clean(s)) }

// elem writes <name>text</name>.
func (b *xmlBuf) elem(name, text string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	b.text(text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteString(">\n")
}

// open writes <name a1="v1" …> from alternating attribute names and values.
func (b *xmlBuf) open(name string, attrs ...string) {
	b.WriteByte('<')
	b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		b.WriteByte(' ')
		b.WriteString(attrs[i])
		b.WriteString(`="`)
		b.attr(attrs[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

// empty writes <name a1="v1" …/>.
func (b *xmlBuf) empty(name string, attrs ...string) {
	b.open(name, attrs...)
	b.Truncate(b.Len() - 1)
	b.WriteString("/>\n")
}

func (b *xmlBuf) close(name string) {
	b.WriteString("</")
	b.WriteString(name)
	b.WriteString(">\n")
}
