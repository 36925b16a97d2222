package calendar

import "time"

// date is a calendar date with no time of day and no time zone. Bank
// holidays and working days are properties of dates, not instants, so the
// rules are written in terms of date and only turned back into instants at
// the edges, in the calendar's location.
type date struct {
	year  int
	month time.Month
	day   int
}

// dateOf returns the date t falls on in t's own location.
func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// midnightUTC is the date as an instant in UTC, which has no daylight-saving
// changes and therefore makes day arithmetic exact.
func (d date) midnightUTC() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

func (d date) weekday() time.Weekday {
	return d.midnightUTC().Weekday()
}

// dayNumber is the date as days since 1 January 1970.
func (d date) dayNumber() int64 {
	return d.midnightUTC().Unix() / 86400
}

// weekdayOfDayNumber is the weekday of a dayNumber: 1 January 1970 was a Thursday.
func weekdayOfDayNumber(n int64) time.Weekday {
	return time.Weekday(((n+4)%7 + 7) % 7)
}

func (d date) isWeekend() bool {
	wd := d.weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// addDays returns the date n calendar days later (earlier if n < 0).
func (d date) addDays(n int) date {
	return dateOf(time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC))
}

// at returns the instant at wall-clock time c on date d in loc. If c does not
// exist on d in loc (a daylight-saving gap) time.Date's normalisation applies;
// in Europe/London the clocks change on Sundays, which are never working
// days, so working-day arithmetic never meets a gap or an overlap.
func (d date) at(c clock, loc *time.Location) time.Time {
	return time.Date(d.year, d.month, d.day, c.hour, c.minute, c.second, c.nanosecond, loc)
}

// clock is a wall-clock time of day.
type clock struct {
	hour, minute, second, nanosecond int
}

// clockOf returns the wall-clock time of day of t in t's own location.
func clockOf(t time.Time) clock {
	h, m, s := t.Clock()
	return clock{h, m, s, t.Nanosecond()}
}
