package archive

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// Format is an export format.
type Format string

// The export formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, JSONL:
		return f, nil
	}
	return "", signpost.Errorf(signpost.EINVALID, "format %q: want csv or jsonl", s)
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

type encoder interface {
	write(Item) error
	flush() error
}

func newEncoder(f Format, w io.Writer) (encoder, error) {
	switch f {
	case CSV:
		c := csv.NewWriter(w)
		if err := c.Write(csvHeader); err != nil {
			return nil, err
		}
		return csvEncoder{c}, nil
	case JSONL:
		bw := bufio.NewWriter(w)
		return jsonlEncoder{bw, json.NewEncoder(bw)}, nil
	}
	return nil, signpost.Errorf(signpost.EINVALID, "format %q: want csv or jsonl", f)
}

var csvHeader = []string{"notice_id", "revision", "kind", "at", "first_published_at", "author", "category", "status",
	"places", "headline", "body", "starts", "ends", "closed_at", "retracted_at", "channels", "delivered_to", "failed_on"}

type csvEncoder struct{ w *csv.Writer }

func (e csvEncoder) write(it Item) error {
	return e.w.Write([]string{
		strconv.FormatInt(it.NoticeID, 10), strconv.Itoa(it.Revision), it.Kind, stamp(&it.At), stamp(&it.FirstPublishedAt),
		cell(it.Author), it.Category, it.Status, strings.Join(it.Places, " "), cell(it.Headline), cell(it.Body),
		stamp(it.Starts), stamp(it.Ends), stamp(it.ClosedAt), stamp(it.RetractedAt), strings.Join(it.Channels, " "),
		strings.Join(it.Delivered(), " "), strings.Join(it.Failed(), " "),
	})
}

func (e csvEncoder) flush() error {
	e.w.Flush()
	return e.w.Error()
}

// cell keeps a spreadsheet from running text as a formula: a value that
// starts with one of the characters spreadsheets read as a formula gets a
// leading apostrophe, which they show as text (OWASP's advice for CSV
// injection). The JSON Lines export keeps text exactly as published.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type jsonlEncoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (e jsonlEncoder) write(it Item) error { return e.enc.Encode(it) }

func (e jsonlEncoder) flush() error { return e.w.Flush() }
