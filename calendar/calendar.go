// Package calendar does the deadline arithmetic for safeguarding cases in
// England: which days are working days, and when a clock of "N working days"
// (or, for test policies, an exact duration) runs out.
//
// Working days are Monday to Friday, excluding England and Wales bank
// holidays. Dates are always judged in Europe/London, whatever location the
// times passed in carry, and working-day deadlines keep the Europe/London
// wall-clock time across daylight-saving changes.
package calendar

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/London must load on hosts without a tz database.
)

// Calendar answers working-day questions for one jurisdiction. It is
// immutable and safe for concurrent use. Create one with EnglandAndWales;
// the zero value is not usable.
type Calendar struct {
	loc *time.Location
}

// londonZone loads Europe/London once per process: every concern workflow makes a calendar,
// and a zone loaded afresh for each held 48 MiB at 10,000 cached workflows (docs/performance.md).
var londonZone = sync.OnceValues(func() (*time.Location, error) { return time.LoadLocation("Europe/London") })

// EnglandAndWales returns the calendar of England and Wales bank holidays in
// Europe/London. It panics only if Europe/London cannot be loaded, which the
// embedded time/tzdata rules out.
func EnglandAndWales() *Calendar {
	loc, err := londonZone()
	if err != nil {
		panic(fmt.Sprintf("calendar: loading Europe/London: %v", err))
	}
	return &Calendar{loc: loc}
}

// Location returns the location in which dates are judged and working-day
// deadlines are expressed.
func (c *Calendar) Location() *time.Location {
	return c.loc
}

// BankHolidays returns the England and Wales bank holidays of year, in date
// order, each at midnight in the calendar's location. They are computed by
// rule for any year, with the one-off changes proclaimed since 1978 applied:
//
//   - New Year's Day, or the Monday after if it falls at a weekend;
//   - Good Friday and Easter Monday;
//   - the early May bank holiday (first Monday in May);
//   - the spring bank holiday (last Monday in May);
//   - the summer bank holiday (last Monday in August);
//   - Christmas Day and Boxing Day, with substitute weekdays when either
//     falls at a weekend.
//
// Years before 1978 follow the same modern rules rather than history.
// The returned slice is new on each call and may be modified.
func (c *Calendar) BankHolidays(year int) []time.Time {
	days := bankHolidays(year)
	out := make([]time.Time, len(days))
	for i, d := range days {
		out[i] = d.at(clock{}, c.loc)
	}
	return out
}

// IsBankHoliday reports whether t falls, in Europe/London, on a bank holiday.
func (c *Calendar) IsBankHoliday(t time.Time) bool {
	return c.isBankHolidayDate(c.dateOf(t))
}

// IsWorkingDay reports whether t falls, in Europe/London, on a weekday that
// is not a bank holiday.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.isWorkingDate(c.dateOf(t))
}

// workingDayStart is when a clock started on a non-working day is treated as
// having started: the beginning of the next working day, when the case can
// first be picked up.
var workingDayStart = clock{hour: 9}

// ClockStart returns the instant from which working days are counted for
// something raised at t: t itself if t is on a working day; otherwise 09:00
// (Europe/London) on the next working day. A referral arriving on Saturday
// afternoon is treated as arriving when the office opens on Monday (Tuesday
// after a bank holiday Monday), so the team gets the full number of working
// days the policy promises.
func (c *Calendar) ClockStart(t time.Time) time.Time {
	day := c.dateOf(t)
	if c.isWorkingDate(day) {
		return t
	}
	return c.nextWorkingDate(day).at(workingDayStart, c.loc)
}

// Add returns the time at which offset o from t falls due.
//
// A duration offset is simply added to t. The zero offset returns t
// unchanged. For N working days, counting starts from ClockStart(t) and the
// result is the same Europe/London wall-clock time on the Nth working day
// after that day (or before it, for negative N). Examples:
//
//   - Thursday 16:00 + 1wd = Friday 16:00; Friday 16:00 + 1wd = Monday 16:00.
//   - Thursday 24 December 2026 16:00 + 1wd = Tuesday 29 December 16:00
//     (Christmas Day, the weekend and the Boxing Day substitute are skipped).
//   - Friday 16:00 BST + 1wd = Monday 16:00 GMT across the October clock
//     change: 73 hours later, but the same time on the office clock.
//   - Saturday 14:00 + 1wd = Tuesday 09:00 (clock starts Monday 09:00).
//   - Monday 10:00 - 1wd = the previous Friday 10:00, skipping bank holidays;
//     Saturday 14:00 - 1wd = Friday 09:00, so a reminder set "1wd before"
//     a weekend deadline still comes before it.
//
// Working-day results are expressed in the calendar's location; otherwise
// the result keeps t's location.
func (c *Calendar) Add(t time.Time, o Offset) time.Time {
	n, ok := o.InWorkingDays()
	if !ok {
		return t.Add(o.duration)
	}
	start := c.ClockStart(t).In(c.loc)
	return c.stepWorkingDays(c.dateOf(start), n).at(clockOf(start), c.loc)
}

// WorkingDaysBetween returns how many whole working days have elapsed from
// from until to: for to on or after from, the largest n >= 0 such that
// Add(from, WorkingDays(n)) is not after to. For to before from it is
// -WorkingDaysBetween(to, from).
//
// So a case due at Tuesday 16:00 is 3 working days overdue from Friday
// 16:00 (2 at Friday 15:59), and one raised at Thursday 24 December 2026
// 16:00 is 1 working day old at Tuesday 29 December 16:00. A count that
// starts on a non-working day starts at ClockStart(from): something raised on
// Saturday is 0 working days old until Tuesday 09:00.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	if to.Before(from) {
		return -c.WorkingDaysBetween(to, from)
	}
	// Every working date after the start's and up to to's counts, except to's own date while
	// its time of day (the start's) has not yet come. Counted, not stepped a day at a time: the
	// overdue list asks this of up to a thousand clocks per request, some a year overdue.
	start := c.ClockStart(from).In(c.loc)
	first, last := c.dateOf(start).addDays(1), c.dateOf(to)
	if compareDates(last, first) < 0 {
		return 0
	}
	n := c.workingDatesFromTo(first, last)
	if c.isWorkingDate(last) && last.at(clockOf(start), c.loc).After(to) {
		n--
	}
	return n
}

// OverdueBound describes, for n >= 1, the instants from at least n working days before to
// (WorkingDaysBetween(from, to) >= n) as a range a query can compare: those not after latest,
// except those in [skipFrom, skipTo). The exception is the non-working days just before latest's
// date when latest is before 09:00: their count starts at 09:00 on that date (ClockStart), after
// latest. skipFrom equals skipTo when nothing is excepted. For n <= 0 every from before to
// counts: latest is to.
//
// Add(to, WorkingDays(-n)) is not the bound when to is not on a working day: at Saturday 14:00,
// something due on Friday 08:00 is not yet a working day late.
func (c *Calendar) OverdueBound(to time.Time, n int) (latest, skipFrom, skipTo time.Time) {
	if n <= 0 {
		return to, to, to
	}
	t := to.In(c.loc)
	d := c.dateOf(t)
	if c.isWorkingDate(d) {
		// Due on working date e at a time of day not after to's: n working days on is to's date.
		latest = c.stepWorkingDays(d, -n).at(clockOf(t), c.loc)
	} else {
		// Any time on the date n working days before the last working date before to.
		latest = c.stepWorkingDays(c.stepWorkingDays(d, -1), -n).addDays(1).at(clock{}, c.loc).Add(-time.Nanosecond)
	}
	e := c.dateOf(latest)
	if clockOf(latest.In(c.loc)).hour < workingDayStart.hour {
		skipFrom = c.stepWorkingDays(e, -1).addDays(1).at(clock{}, c.loc)
		skipTo = e.at(clock{}, c.loc)
		return latest, skipFrom, skipTo
	}
	return latest, latest, latest
}

// workingDatesFromTo counts the working dates from a to b, both included (a <= b): the
// weekdays, less the bank holidays among them.
func (c *Calendar) workingDatesFromTo(a, b date) int {
	da, db := a.dayNumber(), b.dayNumber()
	full := (db - da + 1) / 7
	n := full * 5
	for d := da + full*7; d <= db; d++ {
		if wd := weekdayOfDayNumber(d); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	for y := a.year; y <= b.year; y++ {
		for _, h := range cachedBankHolidays(y) {
			if compareDates(h, a) >= 0 && compareDates(h, b) <= 0 && !h.isWeekend() {
				n--
			}
		}
	}
	return int(n)
}

// holidayCache holds bankHolidays by year: deadline arithmetic asks about the same few years
// over and over, and working the rules out costs far more than looking them up.
var holidayCache sync.Map // int -> []date

// cachedBankHolidays is bankHolidays(year), computed once per year; years far from today are
// not kept, so no caller can grow the cache without bound. The slice must not be modified.
func cachedBankHolidays(year int) []date {
	if year < 1900 || year > 2300 {
		return bankHolidays(year)
	}
	if v, ok := holidayCache.Load(year); ok {
		return v.([]date)
	}
	v, _ := holidayCache.LoadOrStore(year, bankHolidays(year))
	return v.([]date)
}

// dateOf returns the Europe/London date of t.
func (c *Calendar) dateOf(t time.Time) date {
	return dateOf(t.In(c.loc))
}

func (c *Calendar) isBankHolidayDate(d date) bool {
	for _, h := range cachedBankHolidays(d.year) {
		if h == d {
			return true
		}
	}
	return false
}

func (c *Calendar) isWorkingDate(d date) bool {
	return !d.isWeekend() && !c.isBankHolidayDate(d)
}

// nextWorkingDate returns the first working date strictly after d.
func (c *Calendar) nextWorkingDate(d date) date {
	return c.stepWorkingDays(d, 1)
}

// stepWorkingDays returns the date n working days after d (before d if n is
// negative), counting only working days after (before) d itself. n == 0
// returns d.
func (c *Calendar) stepWorkingDays(d date, n int) date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.addDays(step)
		if c.isWorkingDate(d) {
			n--
		}
	}
	return d
}
