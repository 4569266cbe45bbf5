package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/signpost-uk/signpost"
)

// CSV reads a CSV file with a header row. Columns are found by name (case
// and surrounding spaces ignored, any order, extra columns ignored); CRLF or
// LF line ends and a UTF-8 byte-order mark are accepted. Problems are
// collected, not returned one at a time, so a bad file is reported whole.
type CSV struct {
	r        *csv.Reader
	cols     map[string]int
	problems *Problems
	lastLine int
}

// NewCSV reads the header and checks that every required column is present.
func NewCSV(r io.Reader, problems *Problems, required ...string) (*CSV, error) {
	cr := csv.NewReader(skipBOM(r))
	cr.FieldsPerRecord = -1 // rows of the wrong width are reported by line, not fatal
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		problems.Add(1, "", "the file is empty: expected a header row with %s", strings.Join(required, ", "))
		return nil, problems.Err()
	}
	if err != nil {
		problems.Add(1, "", "cannot read the header row: %v", csvReason(err))
		return nil, problems.Err()
	}
	c := &CSV{r: cr, cols: map[string]int{}, problems: problems}
	for i, h := range header {
		c.cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, col := range required {
		if _, ok := c.cols[col]; !ok {
			problems.Add(1, col, "missing column %q (the header has: %s)", col, strings.Join(header, ", "))
		}
	}
	if problems.Len() > 0 {
		return nil, problems.Err()
	}
	return c, nil
}

// Next returns the next data row, or false at the end of the file. A row that
// cannot be parsed as CSV is recorded as a problem and skipped.
func (c *CSV) Next() (*Row, bool) {
	for {
		rec, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			return nil, false
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				c.problems.Add(c.lastLine+1, "", "%s", csvReason(err))
				return nil, false // an I/O error: nothing more can be read
			}
			c.problems.Add(pe.Line, "", "%s", csvReason(err))
			c.lastLine = pe.Line
			continue
		}
		line, _ := c.r.FieldPos(0)
		c.lastLine = line
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line, often left at the end by spreadsheets
		}
		return &Row{Line: line, rec: rec, csv: c}, true
	}
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("malformed CSV at column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}

// Row is one data row. Its accessors record a problem against the row's line
// and column when a value is missing or malformed; OK reports whether any
// did.
type Row struct {
	Line int
	rec  []string
	csv  *CSV
	bad  bool
}

// OK reports whether every value read from the row so far was valid.
func (r *Row) OK() bool { return !r.bad }

// Problem records a problem with a column of this row.
func (r *Row) Problem(col, format string, args ...any) {
	r.bad = true
	r.csv.problems.Add(r.Line, col, format, args...)
}

// Text returns a column's value with surrounding spaces removed ("" when
// the row is too short to have it).
func (r *Row) Text(col string) string {
	i, ok := r.csv.cols[col]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

// Has reports whether the file has a column.
func (r *Row) Has(col string) bool {
	_, ok := r.csv.cols[col]
	return ok
}

// Required returns a non-empty value or records a problem.
func (r *Row) Required(col string) string {
	v := r.Text(col)
	if v == "" {
		r.Problem(col, "is empty")
	}
	return v
}

// Float returns a number within [lo, hi] or records a problem.
func (r *Row) Float(col string, lo, hi float64) float64 {
	v := r.Required(col)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		r.Problem(col, "%q is not a number", clip(v))
		return 0
	}
	if f < lo || f > hi {
		r.Problem(col, "%s is out of range (%g to %g)", v, lo, hi)
	}
	return f
}

// Int returns a whole number within [lo, hi] or records a problem.
func (r *Row) Int(col string, lo, hi int) int {
	v := r.Required(col)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.Problem(col, "%q is not a whole number", clip(v))
		return 0
	}
	if n < lo || n > hi {
		r.Problem(col, "%d is out of range (%d to %d)", n, lo, hi)
	}
	return n
}

// Lat and Lon return WGS84 coordinates.
func (r *Row) Lat(col string) float64 { return r.Float(col, -90, 90) }

// Lon returns a WGS84 longitude.
func (r *Row) Lon(col string) float64 { return r.Float(col, -180, 180) }

// Postcode returns a normalised postcode or records a problem.
func (r *Row) Postcode(col string) string {
	v := r.Required(col)
	if v == "" {
		return ""
	}
	pc, err := signpost.NormalizePostcode(v)
	if err != nil {
		r.Problem(col, "%s", signpost.ErrorMessage(err))
	}
	return pc
}

// skipBOM drops a leading UTF-8 byte-order mark, which spreadsheet
// programs add when saving "CSV UTF-8".
func skipBOM(r io.Reader) io.Reader {
	br := &bomReader{r: r}
	return br
}

type bomReader struct {
	r    io.Reader
	done bool
}

func (b *bomReader) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	b.done = true
	var head [3]byte
	n, err := io.ReadFull(b.r, head[:])
	if n == 3 && bytes.Equal(head[:], []byte{0xEF, 0xBB, 0xBF}) {
		return b.r.Read(p)
	}
	b.r = io.MultiReader(bytes.NewReader(head[:n]), b.r)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, err
	}
	return b.r.Read(p)
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
