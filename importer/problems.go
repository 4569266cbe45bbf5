package importer

import (
	"fmt"
	"strings"

	"github.com/signpost-uk/signpost"
)

// maxProblems bounds memory on a file that is wrong on every one of its
// millions of lines; the count still covers them all.
const maxProblems = 1000

// Problem is one thing wrong with an input file.
type Problem struct {
	Line   int    // 1-based; the header is line 1
	Column string // empty when the whole row or file is at fault
	Reason string
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", p.Line, p.Column, p.Reason)
}

// Problems collects the problems with one file.
type Problems struct {
	File  string
	list  []Problem
	total int
}

// Add records a problem.
func (ps *Problems) Add(line int, col, format string, args ...any) {
	ps.total++
	if len(ps.list) < maxProblems {
		ps.list = append(ps.list, Problem{Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
}

// Len is how many problems were found.
func (ps *Problems) Len() int { return ps.total }

// Err returns a *FileError when there were problems, else nil.
func (ps *Problems) Err() error {
	if ps.total == 0 {
		return nil
	}
	return &FileError{File: ps.File, Problems: ps.list, Total: ps.total}
}

// FileError says why a file was not imported; nothing from it was kept.
type FileError struct {
	File     string
	Problems []Problem // the first maxProblems
	Total    int
}

func (e *FileError) Error() string {
	var b strings.Builder
	noun := "problems"
	if e.Total == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "%s: %d %s; nothing was imported", e.File, e.Total, noun)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", more)
	}
	return b.String()
}

// Unwrap makes the error an EINVALID signpost error, so callers show the
// message to the user as it is.
func (e *FileError) Unwrap() error {
	return &signpost.Error{Code: signpost.EINVALID, Message: e.Error()}
}
