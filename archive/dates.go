package archive

import (
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// ParseDay reads a calendar date as people type it, "2026-01-27" or
// "27/1/2026", and returns midnight at its start in loc. field names the
// input in the error.
func ParseDay(field, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "2/1/2006"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, signpost.Errorf(signpost.EINVALID, "%s must be a real date, like 27/1/2026 or 2026-01-27", field)
}

// DayRange turns a from and a to date (either may be empty) into the
// instants a Query takes: from the start of the first day to the end of
// the last, in loc.
func DayRange(from, to string, loc *time.Location) (start, end time.Time, err error) {
	if strings.TrimSpace(from) != "" {
		if start, err = ParseDay("The start date", from, loc); err != nil {
			return
		}
	}
	if strings.TrimSpace(to) != "" {
		if end, err = ParseDay("The end date", to, loc); err != nil {
			return
		}
		end = end.AddDate(0, 0, 1)
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		err = signpost.Errorf(signpost.EINVALID, "The end date must be on or after the start date")
	}
	return
}
