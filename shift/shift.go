// Package shift estimates what a channel-shift campaign saved: how many
// phone calls it avoided, how many extra digital contacts it brought and the
// net money saved, each with a 95% interval, after allowing for the weather,
// the day of the week and the long-run trend. It fits a baseline to the days
// before the campaign, predicts the campaign period from it and compares the
// prediction with what happened, and it says plainly when the data are too
// thin or the model fits too badly for the number to be trusted.
//
// The package is pure arithmetic over in-memory series: callers load the
// weather, contacts, costs and campaigns (from CSV or the store) and pass
// them in as plain Go values.
package shift

import (
	"time"
)

// Weather is one day's weather as the council records it.
type Weather struct {
	Date     time.Time
	SnowCM   float64
	MinTempC float64
	Severity int // 0 none, 1 frost or ice, 2 snow, 3 heavy snow
}

// Contact is the number of contacts on one day through one channel about
// one category of service. A zero count is a real zero; a missing row is a
// gap in the data.
type Contact struct {
	Date     time.Time
	Channel  string // phone, web, social, email, face-to-face, or any other name
	Category string
	Count    int
}

// Cost is what one contact through a channel costs, from a date onwards.
type Cost struct {
	Channel       string
	EffectiveFrom time.Time // zero time: since always
	FullyLoaded   float64   // £ per contact including overheads
	// Marginal is £ per contact that is actually saved when a contact does
	// not happen (mostly staff time); nil when the council has not given one.
	Marginal *float64
	Source   string
}

// Campaign is a piece of channel-shift work with the dates it ran and the
// categories of service it was meant to move online.
type Campaign struct {
	Name        string
	Start       time.Time
	End         time.Time // inclusive
	Categories  []string
	Description string
}

// Data is everything an estimate reads.
type Data struct {
	Weather   []Weather
	Contacts  []Contact
	Costs     []Cost
	Campaigns []Campaign
}

// Options tune the estimate. The zero value gives the documented defaults.
type Options struct {
	// BaselineDays is how many days before the campaign the baseline is
	// fitted on (default 1096, three years): long enough to see several
	// winters, short enough that a straight-line trend is believable.
	BaselineDays int
	// Draws is the number of bootstrap resamples (default 1000).
	Draws int
	// Seed makes the bootstrap repeatable (default 1).
	Seed uint64
	// BlockDays is the bootstrap block length (default 14): two weeks
	// keeps a spell of bad weather together.
	BlockDays int
	// PhoneChannel names the channel whose contacts are "calls" (default "phone").
	PhoneChannel string
}

func (o Options) withDefaults() Options {
	if o.BaselineDays <= 0 {
		o.BaselineDays = 1096
	}
	if o.Draws <= 0 {
		o.Draws = 1000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.BlockDays <= 0 {
		o.BlockDays = 14
	}
	if o.PhoneChannel == "" {
		o.PhoneChannel = "phone"
	}
	return o
}

// IsDigital reports whether a channel counts as digital: anything that is
// not the phone and not an assisted or paper channel (web, social, email,
// app, chat, and Signpost's own pages, feeds and API).
func IsDigital(channel, phone string) bool {
	return channel != phone && !isAssisted(channel)
}

// isAssisted reports the channels that are neither the phone nor digital:
// a contact moving to them is not channel shift to digital.
func isAssisted(channel string) bool {
	switch channel {
	case "face-to-face", "face to face", "in-person", "in person", "visit", "counter", "letter", "post", "paper":
		return true
	}
	return false
}

// dayNumber is the number of days since 1970-01-01 of t's calendar date,
// computed from the civil date so that the time of day and zone never shift
// a contact to the neighbouring day. (Days-from-civil, proleptic Gregorian.)
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return daysFromCivil(y, int(m), d)
}

func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func dateOf(day int) time.Time {
	return time.Unix(int64(day)*86400, 0).UTC()
}

// weekday of a day number: 1970-01-01 was a Thursday.
func weekdayOf(day int) time.Weekday {
	return time.Weekday(((day+4)%7 + 7) % 7)
}
