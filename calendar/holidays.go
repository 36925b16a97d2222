package calendar

import (
	"slices"
	"time"
)

// bankHolidays returns the England and Wales bank holidays of year, sorted.
//
// The regular holidays are derived from the rules in force since 1978 (when
// the early May bank holiday began); the one-off changes proclaimed since
// then are applied on top from oneOffChanges. Years before 1978 are computed
// with the same modern rules, so they describe today's pattern projected
// backwards, not the holidays actually observed then.
func bankHolidays(year int) []date {
	days := regularBankHolidays(year)
	for _, ch := range oneOffChanges {
		if ch.replaces != (date{}) && ch.replaces.year == year {
			days = slices.DeleteFunc(days, func(d date) bool { return d == ch.replaces })
		}
		if ch.holiday.year == year {
			days = append(days, ch.holiday)
		}
	}
	slices.SortFunc(days, compareDates)
	return slices.Compact(days)
}

// regularBankHolidays applies the standing England and Wales rules only.
func regularBankHolidays(year int) []date {
	easter := easterSunday(year)
	days := []date{
		newYearsDayObserved(year),
		easter.addDays(-2), // Good Friday
		easter.addDays(1),  // Easter Monday
		firstMonday(year, time.May),
		lastMonday(year, time.May),
		lastMonday(year, time.August),
	}
	return append(days, christmasAndBoxingDayObserved(year)...)
}

// newYearsDayObserved is 1 January, or the following Monday when 1 January
// falls at a weekend.
func newYearsDayObserved(year int) date {
	d := date{year, time.January, 1}
	for d.isWeekend() {
		d = d.addDays(1)
	}
	return d
}

// christmasAndBoxingDayObserved returns the two Christmas bank holidays.
// When either day falls at a weekend a substitute weekday is given, and the
// two holidays never share a day:
//
//	Christmas on Friday:   Fri 25, Mon 28 (Boxing Day on Saturday)
//	Christmas on Saturday: Mon 27, Tue 28
//	Christmas on Sunday:   Mon 26 (Boxing Day), Tue 27 (for Christmas Day)
func christmasAndBoxingDayObserved(year int) []date {
	christmas := date{year, time.December, 25}
	switch christmas.weekday() {
	case time.Friday:
		return []date{christmas, {year, time.December, 28}}
	case time.Saturday:
		return []date{{year, time.December, 27}, {year, time.December, 28}}
	case time.Sunday:
		return []date{{year, time.December, 26}, {year, time.December, 27}}
	default:
		return []date{christmas, {year, time.December, 26}}
	}
}

func firstMonday(year int, month time.Month) date {
	d := date{year, month, 1}
	for d.weekday() != time.Monday {
		d = d.addDays(1)
	}
	return d
}

func lastMonday(year int, month time.Month) date {
	d := date{year, month + 1, 1}.addDays(-1)
	for d.weekday() != time.Monday {
		d = d.addDays(-1)
	}
	return d
}

// easterSunday computes the date of Easter Sunday in the Gregorian calendar
// with the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easterSunday(year int) date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	// Normalise through time.Date so that nonsensical (e.g. negative) years
	// still yield a valid date instead of a malformed one.
	return date{year, time.Month(month), day}.addDays(0)
}

// oneOffChange is a bank holiday proclaimed for a single year: either an
// extra holiday, or a regular holiday moved to another day (replaces is the
// rule-derived date that was not a holiday that year).
type oneOffChange struct {
	holiday  date
	replaces date // zero when holiday is an extra day
	reason   string
}

// oneOffChanges lists the England and Wales changes by royal proclamation
// since the current rules began in 1978. Only changes the maintainers are
// confident of are listed; each names its reason so a reviewer can check it
// against the proclamation. Add future proclamations here.
var oneOffChanges = []oneOffChange{
	{
		holiday: date{1981, time.July, 29},
		reason:  "extra: wedding of the Prince of Wales and Lady Diana Spencer",
	},
	{
		holiday:  date{1995, time.May, 8},
		replaces: date{1995, time.May, 1},
		reason:   "early May bank holiday moved to Monday 8 May for the 50th anniversary of VE Day",
	},
	{
		holiday: date{1999, time.December, 31},
		reason:  "extra: Millennium",
	},
	{
		holiday:  date{2002, time.June, 4},
		replaces: date{2002, time.May, 27},
		reason:   "spring bank holiday moved to Tuesday 4 June for the Golden Jubilee",
	},
	{
		holiday: date{2002, time.June, 3},
		reason:  "extra: Golden Jubilee of Queen Elizabeth II",
	},
	{
		holiday: date{2011, time.April, 29},
		reason:  "extra: wedding of Prince William and Catherine Middleton",
	},
	{
		holiday:  date{2012, time.June, 4},
		replaces: date{2012, time.May, 28},
		reason:   "spring bank holiday moved to Monday 4 June for the Diamond Jubilee",
	},
	{
		holiday: date{2012, time.June, 5},
		reason:  "extra: Diamond Jubilee of Queen Elizabeth II",
	},
	{
		holiday:  date{2020, time.May, 8},
		replaces: date{2020, time.May, 4},
		reason:   "early May bank holiday moved to Friday 8 May for the 75th anniversary of VE Day",
	},
	{
		holiday:  date{2022, time.June, 2},
		replaces: date{2022, time.May, 30},
		reason:   "spring bank holiday moved to Thursday 2 June for the Platinum Jubilee",
	},
	{
		holiday: date{2022, time.June, 3},
		reason:  "extra: Platinum Jubilee of Queen Elizabeth II",
	},
	{
		holiday: date{2022, time.September, 19},
		reason:  "extra: State Funeral of Queen Elizabeth II",
	},
	{
		holiday: date{2023, time.May, 8},
		reason:  "extra: Coronation of King Charles III",
	},
}

func compareDates(a, b date) int {
	return a.midnightUTC().Compare(b.midnightUTC())
}
