package calendar

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// wallClock is the layout used to state expected times: the weekday and zone
// abbreviation make the working-day and daylight-saving intent visible.
const wallClock = "Mon 2006-01-02 15:04:05 MST"

// london parses "2006-01-02 15:04" as a Europe/London wall-clock time.
func london(t *testing.T, s string) time.Time {
	t.Helper()
	got, err := time.ParseInLocation("2006-01-02 15:04", s, EnglandAndWales().Location())
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return got
}

func mustParseOffset(t *testing.T, s string) Offset {
	t.Helper()
	o, err := ParseOffset(s)
	if err != nil {
		t.Fatalf("ParseOffset(%q): %v", s, err)
	}
	return o
}

func TestEnglandAndWalesIsInEuropeLondon(t *testing.T) {
	if got := EnglandAndWales().Location().String(); got != "Europe/London" {
		t.Errorf("Location() = %q, want Europe/London", got)
	}
}

// Expected dates are the gov.uk published England and Wales bank holidays for
// 2020–2026 and the rule-derived dates for 2027–2030, written out literally
// and checked independently (weekday via date(1), Easter via dateutil).
func TestBankHolidaysMatchPublishedDates2020To2030(t *testing.T) {
	tests := []struct {
		name string
		year int
		want []string
	}{
		{"2020: early May moved to Friday 8 May for VE Day; Boxing Day on Saturday moves to Monday 28", 2020, []string{
			"Wed 2020-01-01", "Fri 2020-04-10", "Mon 2020-04-13", "Fri 2020-05-08",
			"Mon 2020-05-25", "Mon 2020-08-31", "Fri 2020-12-25", "Mon 2020-12-28"}},
		{"2021: Christmas on Saturday gives Monday 27 and Tuesday 28", 2021, []string{
			"Fri 2021-01-01", "Fri 2021-04-02", "Mon 2021-04-05", "Mon 2021-05-03",
			"Mon 2021-05-31", "Mon 2021-08-30", "Mon 2021-12-27", "Tue 2021-12-28"}},
		{"2022: New Year on Saturday moves to Monday 3; Platinum Jubilee; State Funeral; Christmas on Sunday gives Tuesday 27", 2022, []string{
			"Mon 2022-01-03", "Fri 2022-04-15", "Mon 2022-04-18", "Mon 2022-05-02",
			"Thu 2022-06-02", "Fri 2022-06-03", "Mon 2022-08-29", "Mon 2022-09-19",
			"Mon 2022-12-26", "Tue 2022-12-27"}},
		{"2023: New Year on Sunday moves to Monday 2; Coronation on Monday 8 May", 2023, []string{
			"Mon 2023-01-02", "Fri 2023-04-07", "Mon 2023-04-10", "Mon 2023-05-01",
			"Mon 2023-05-08", "Mon 2023-05-29", "Mon 2023-08-28", "Mon 2023-12-25",
			"Tue 2023-12-26"}},
		{"2024: Easter in March", 2024, []string{
			"Mon 2024-01-01", "Fri 2024-03-29", "Mon 2024-04-01", "Mon 2024-05-06",
			"Mon 2024-05-27", "Mon 2024-08-26", "Wed 2024-12-25", "Thu 2024-12-26"}},
		{"2025: no substitutes", 2025, []string{
			"Wed 2025-01-01", "Fri 2025-04-18", "Mon 2025-04-21", "Mon 2025-05-05",
			"Mon 2025-05-26", "Mon 2025-08-25", "Thu 2025-12-25", "Fri 2025-12-26"}},
		{"2026: Boxing Day on Saturday moves to Monday 28", 2026, []string{
			"Thu 2026-01-01", "Fri 2026-04-03", "Mon 2026-04-06", "Mon 2026-05-04",
			"Mon 2026-05-25", "Mon 2026-08-31", "Fri 2026-12-25", "Mon 2026-12-28"}},
		{"2027: Easter in March; Christmas on Saturday gives Monday 27 and Tuesday 28", 2027, []string{
			"Fri 2027-01-01", "Fri 2027-03-26", "Mon 2027-03-29", "Mon 2027-05-03",
			"Mon 2027-05-31", "Mon 2027-08-30", "Mon 2027-12-27", "Tue 2027-12-28"}},
		{"2028: New Year on Saturday moves to Monday 3", 2028, []string{
			"Mon 2028-01-03", "Fri 2028-04-14", "Mon 2028-04-17", "Mon 2028-05-01",
			"Mon 2028-05-29", "Mon 2028-08-28", "Mon 2028-12-25", "Tue 2028-12-26"}},
		{"2029: no substitutes", 2029, []string{
			"Mon 2029-01-01", "Fri 2029-03-30", "Mon 2029-04-02", "Mon 2029-05-07",
			"Mon 2029-05-28", "Mon 2029-08-27", "Tue 2029-12-25", "Wed 2029-12-26"}},
		{"2030: no substitutes", 2030, []string{
			"Tue 2030-01-01", "Fri 2030-04-19", "Mon 2030-04-22", "Mon 2030-05-06",
			"Mon 2030-05-27", "Mon 2030-08-26", "Wed 2030-12-25", "Thu 2030-12-26"}},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range cal.BankHolidays(tt.year) {
				if h.Location() != cal.Location() || clockOf(h) != (clock{}) {
					t.Errorf("holiday %v is not midnight in Europe/London", h)
				}
				got = append(got, h.Format("Mon 2006-01-02"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("BankHolidays(%d)\n got %q\nwant %q", tt.year, got, tt.want)
			}
		})
	}
}

func TestBankHolidaysIncludeHistoricOneOffChanges(t *testing.T) {
	tests := []struct {
		name string
		day  string
		want bool
	}{
		{"1981 royal wedding on Wednesday 29 July is a bank holiday", "1981-07-29", true},
		{"1995 early May moved to Monday 8 May for VE Day 50", "1995-05-08", true},
		{"1995 Monday 1 May is not a bank holiday", "1995-05-01", false},
		{"1999 Friday 31 December is the Millennium bank holiday", "1999-12-31", true},
		{"2002 Monday 3 June is the Golden Jubilee bank holiday", "2002-06-03", true},
		{"2002 spring bank holiday moved to Tuesday 4 June", "2002-06-04", true},
		{"2002 Monday 27 May is not a bank holiday", "2002-05-27", false},
		{"2011 royal wedding on Friday 29 April is a bank holiday", "2011-04-29", true},
		{"2012 spring bank holiday moved to Monday 4 June", "2012-06-04", true},
		{"2012 Tuesday 5 June is the Diamond Jubilee bank holiday", "2012-06-05", true},
		{"2012 Monday 28 May is not a bank holiday", "2012-05-28", false},
		{"2020 Monday 4 May is not a bank holiday", "2020-05-04", false},
		{"2022 Monday 30 May is not a bank holiday", "2022-05-30", false},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.IsBankHoliday(london(t, tt.day+" 12:00")); got != tt.want {
				t.Errorf("IsBankHoliday(%s) = %v, want %v", tt.day, got, tt.want)
			}
		})
	}
}

// Guards the one-off table against typos: a moved holiday must replace a
// rule-derived one, and every proclaimed holiday is a weekday that the rules
// alone would not have given.
func TestOneOffChangesAreConsistentWithTheRules(t *testing.T) {
	for _, ch := range oneOffChanges {
		t.Run(ch.reason, func(t *testing.T) {
			regular := regularBankHolidays(ch.holiday.year)
			if ch.holiday.isWeekend() {
				t.Errorf("%v is at a weekend", ch.holiday)
			}
			if slices.Contains(regular, ch.holiday) {
				t.Errorf("%v is already a regular bank holiday", ch.holiday)
			}
			if ch.replaces != (date{}) && !slices.Contains(regular, ch.replaces) {
				t.Errorf("replaced date %v is not a regular bank holiday", ch.replaces)
			}
		})
	}
}

func TestBankHolidaysAreSortedWeekdaysForAnyYear(t *testing.T) {
	cal := EnglandAndWales()
	for year := 1600; year <= 2400; year++ {
		days := cal.BankHolidays(year)
		if len(days) < 8 {
			t.Fatalf("BankHolidays(%d) has %d days, want at least 8", year, len(days))
		}
		for i, d := range days {
			if d.Year() != year {
				t.Errorf("BankHolidays(%d) contains %v", year, d)
			}
			if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("BankHolidays(%d) contains weekend day %v", year, d)
			}
			if i > 0 && !days[i-1].Before(d) {
				t.Errorf("BankHolidays(%d) not strictly sorted at %v", year, d)
			}
		}
	}
}

func TestEasterSundayMatchesKnownDates(t *testing.T) {
	tests := []struct {
		year int
		want date
	}{
		{1818, date{1818, time.March, 22}}, // earliest possible
		{2000, date{2000, time.April, 23}},
		{2008, date{2008, time.March, 23}},
		{2027, date{2027, time.March, 28}},
		{2038, date{2038, time.April, 25}}, // latest possible
		{2285, date{2285, time.March, 22}},
	}
	for _, tt := range tests {
		if got := easterSunday(tt.year); got != tt.want {
			t.Errorf("easterSunday(%d) = %v, want %v", tt.year, got, tt.want)
		}
	}
}

func TestIsWorkingDayJudgesTheDateInEuropeLondon(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		t              time.Time
		wantHoliday    bool
		wantWorkingDay bool
	}{
		{"Sunday 23:30 UTC is 00:30 BST on spring bank holiday Monday 25 May 2026",
			time.Date(2026, 5, 24, 23, 30, 0, 0, time.UTC), true, false},
		{"Friday 8 May 2026 is an ordinary working day",
			time.Date(2026, 5, 8, 12, 0, 0, 0, time.UTC), false, true},
		{"Sunday 20:00 in New York is 01:00 on Boxing Day substitute Monday 28 December 2026",
			time.Date(2026, 12, 27, 20, 0, 0, 0, newYork), true, false},
		{"Saturday 26 December 2026 (Boxing Day itself) is not a working day nor a bank holiday",
			time.Date(2026, 12, 26, 12, 0, 0, 0, time.UTC), false, false},
		{"Tuesday 29 December 2026 is a working day",
			time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), false, true},
		{"Monday 23:59:59 BST before a Tuesday is still the Monday",
			time.Date(2026, 6, 1, 22, 59, 59, 0, time.UTC), false, true},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.IsBankHoliday(tt.t); got != tt.wantHoliday {
				t.Errorf("IsBankHoliday(%v) = %v, want %v", tt.t, got, tt.wantHoliday)
			}
			if got := cal.IsWorkingDay(tt.t); got != tt.wantWorkingDay {
				t.Errorf("IsWorkingDay(%v) = %v, want %v", tt.t, got, tt.wantWorkingDay)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name   string
		from   string // Europe/London wall clock
		offset string
		want   string // wallClock layout, Europe/London
	}{
		// Working days forward.
		{"raised Thursday 3 December 2026 10:30 with 1wd is due Friday 4 December 10:30",
			"2026-12-03 10:30", "1wd", "Fri 2026-12-04 10:30:00 GMT"},
		{"raised Friday 5 June 2026 16:00 with 1wd is due Monday 8 June 16:00",
			"2026-06-05 16:00", "1wd", "Mon 2026-06-08 16:00:00 BST"},
		{"raised Thursday 24 December 2026 16:00 with 1wd is due Tuesday 29 December 16:00",
			"2026-12-24 16:00", "1wd", "Tue 2026-12-29 16:00:00 GMT"},
		{"raised Monday 7 December 2026 09:00 with 20wd skips Christmas and New Year: due Thursday 7 January 2027 09:00",
			"2026-12-07 09:00", "20wd", "Thu 2027-01-07 09:00:00 GMT"},
		{"raised Wednesday 24 March 2027 11:00 with 2wd skips Good Friday and Easter Monday: due Tuesday 30 March 11:00 BST",
			"2027-03-24 11:00", "2wd", "Tue 2027-03-30 11:00:00 BST"},
		{"raised Thursday 25 March 2027 16:00 GMT with 1wd crosses Easter and the March clock change: due Tuesday 30 March 16:00 BST",
			"2027-03-25 16:00", "1wd", "Tue 2027-03-30 16:00:00 BST"},
		{"raised Friday 23 October 2026 16:00 BST with 1wd crosses the October clock change: due Monday 26 October 16:00 GMT",
			"2026-10-23 16:00", "1wd", "Mon 2026-10-26 16:00:00 GMT"},
		{"raised Monday 22 March 2027 10:00 GMT with 5wd skips Easter and the clock change: due Wednesday 31 March 10:00 BST",
			"2027-03-22 10:00", "5wd", "Wed 2027-03-31 10:00:00 BST"},

		// Clock started on a non-working day: 09:00 on the next working day.
		{"raised Saturday 5 December 2026 14:00 with 1wd: clock starts Monday 09:00, due Tuesday 8 December 09:00",
			"2026-12-05 14:00", "1wd", "Tue 2026-12-08 09:00:00 GMT"},
		{"raised Sunday 24 May 2026 22:00 before spring bank holiday with 1wd: clock starts Tuesday 26 May 09:00, due Wednesday 27 May 09:00",
			"2026-05-24 22:00", "1wd", "Wed 2026-05-27 09:00:00 BST"},
		{"raised Good Friday 26 March 2027 14:00 GMT with 1wd: clock starts Tuesday 30 March 09:00 BST, due Wednesday 31 March 09:00 BST",
			"2027-03-26 14:00", "1wd", "Wed 2027-03-31 09:00:00 BST"},
		{"raised Christmas Day 2026 00:00 with 1wd: clock starts Tuesday 29 December 09:00, due Wednesday 30 December 09:00",
			"2026-12-25 00:00", "1wd", "Wed 2026-12-30 09:00:00 GMT"},
		{"raised Sunday 25 October 2026 01:30 (ambiguous hour of the clock change) with 1wd: due Tuesday 27 October 09:00 GMT",
			"2026-10-25 01:30", "1wd", "Tue 2026-10-27 09:00:00 GMT"},

		// Working days backwards, for reminders.
		{"-1wd from Monday 7 December 2026 10:00 is the previous Friday 4 December 10:00",
			"2026-12-07 10:00", "-1wd", "Fri 2026-12-04 10:00:00 GMT"},
		{"-1wd from Tuesday 26 May 2026 10:00 after the spring bank holiday is Friday 22 May 10:00",
			"2026-05-26 10:00", "-1wd", "Fri 2026-05-22 10:00:00 BST"},
		{"-2wd from Tuesday 29 December 2026 16:00 skips the Christmas holidays: Wednesday 23 December 16:00",
			"2026-12-29 16:00", "-2wd", "Wed 2026-12-23 16:00:00 GMT"},
		{"-1wd from Monday 26 October 2026 16:00 GMT is Friday 23 October 16:00 BST",
			"2026-10-26 16:00", "-1wd", "Fri 2026-10-23 16:00:00 BST"},
		{"-1wd from Tuesday 30 March 2027 16:00 BST skips Easter: Thursday 25 March 16:00 GMT",
			"2027-03-30 16:00", "-1wd", "Thu 2027-03-25 16:00:00 GMT"},
		{"-1wd from Saturday 5 December 2026 14:00 is Friday 4 December 09:00, still before the weekend deadline",
			"2026-12-05 14:00", "-1wd", "Fri 2026-12-04 09:00:00 GMT"},

		// Zero and durations.
		{"0 from Saturday 5 December 2026 14:00 returns the time unchanged",
			"2026-12-05 14:00", "0", "Sat 2026-12-05 14:00:00 GMT"},
		{"0wd from Saturday 5 December 2026 14:00 returns the time unchanged",
			"2026-12-05 14:00", "0wd", "Sat 2026-12-05 14:00:00 GMT"},
		{"90s on Christmas Day adds exactly 90 seconds",
			"2026-12-25 10:00", "90s", "Fri 2026-12-25 10:01:30 GMT"},
		{"-30s subtracts 30 seconds",
			"2026-12-25 10:00", "-30s", "Fri 2026-12-25 09:59:30 GMT"},
		{"4h across the October clock change adds four elapsed hours, not wall-clock hours",
			"2026-10-25 00:30", "4h", "Sun 2026-10-25 03:30:00 GMT"},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := london(t, tt.from)
			got := cal.Add(from, mustParseOffset(t, tt.offset))
			if s := got.In(cal.Location()).Format(wallClock); s != tt.want {
				t.Errorf("Add(%s, %s) = %s, want %s", from.Format(wallClock), tt.offset, s, tt.want)
			}
			// The instant, not the presentation, is what matters: the same
			// instant given in UTC must give the same due time.
			if gotUTC := cal.Add(from.UTC(), mustParseOffset(t, tt.offset)); !gotUTC.Equal(got) {
				t.Errorf("Add with UTC input = %v, want %v", gotUTC, got)
			}
		})
	}
}

func TestAddAcrossOctoberClockChangeTakes73Hours(t *testing.T) {
	cal := EnglandAndWales()
	from := london(t, "2026-10-23 16:00")
	if got := cal.Add(from, WorkingDays(1)).Sub(from); got != 73*time.Hour {
		t.Errorf("Friday 16:00 BST to Monday 16:00 GMT = %v, want 73h", got)
	}
	from = london(t, "2027-03-25 16:00")
	if got := cal.Add(from, WorkingDays(1)).Sub(from); got != 5*24*time.Hour-time.Hour {
		t.Errorf("Thursday 16:00 GMT to Tuesday 16:00 BST = %v, want 119h", got)
	}
}

func TestClockStart(t *testing.T) {
	tests := []struct {
		name string
		t    string
		want string
	}{
		{"a working day starts at the time raised", "2026-12-24 16:00", "Thu 2026-12-24 16:00:00 GMT"},
		{"a working day starts at the time raised even before 09:00", "2026-12-24 06:00", "Thu 2026-12-24 06:00:00 GMT"},
		{"Saturday starts Monday 09:00", "2026-12-05 14:00", "Mon 2026-12-07 09:00:00 GMT"},
		{"Christmas Day 2026 starts Tuesday 29 December 09:00", "2026-12-25 23:59", "Tue 2026-12-29 09:00:00 GMT"},
		{"Sunday of the March 2027 clock change and Easter starts Tuesday 30 March 09:00 BST", "2027-03-28 00:30", "Tue 2027-03-30 09:00:00 BST"},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.ClockStart(london(t, tt.t)).In(cal.Location()).Format(wallClock); got != tt.want {
				t.Errorf("ClockStart(%s) = %s, want %s", tt.t, got, tt.want)
			}
		})
	}
}

// Property: for a working-day offset N, Add(Add(t, N), -N) returns to the
// clock start of t. That is t itself when t is on a working day (so on or
// before t); when t is on a non-working day it is 09:00 on the next working
// day, which is later than t by design of the non-working-day rule. The same
// holds with the signs swapped, and WorkingDaysBetween agrees with Add.
func TestAddWorkingDaysRoundTrips(t *testing.T) {
	cal := EnglandAndWales()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, cal.Location())
	until := time.Date(2029, 1, 1, 0, 0, 0, 0, cal.Location())
	for i, t0 := 0, from; t0.Before(until); i, t0 = i+1, t0.Add(5*time.Hour+37*time.Minute+11*time.Second) {
		n := i%30 + 1
		start := cal.ClockStart(t0)
		due := cal.Add(t0, WorkingDays(n))
		if !cal.IsWorkingDay(due) {
			t.Fatalf("Add(%v, %dwd) = %v, not a working day", t0, n, due)
		}
		if back := cal.Add(due, WorkingDays(-n)); !back.Equal(start) {
			t.Fatalf("Add(Add(%v, %dwd), -%dwd) = %v, want clock start %v", t0, n, n, back, start)
		}
		if got := cal.WorkingDaysBetween(t0, due); got != n {
			t.Fatalf("WorkingDaysBetween(%v, %v) = %d, want %d", t0, due, got, n)
		}
		if !cal.IsWorkingDay(t0) {
			continue
		}
		if back := cal.Add(due, WorkingDays(-n)); back.After(t0) {
			t.Fatalf("Add(Add(%v, %dwd), -%dwd) = %v, after the start", t0, n, n, back)
		}
		before := cal.Add(t0, WorkingDays(-n))
		if again := cal.Add(before, WorkingDays(n)); !again.Equal(t0) {
			t.Fatalf("Add(Add(%v, -%dwd), %dwd) = %v, want %v", t0, n, n, again, t0)
		}
		if got := cal.WorkingDaysBetween(t0, before); got != -n {
			t.Fatalf("WorkingDaysBetween(%v, %v) = %d, want %d", t0, before, got, -n)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     int
	}{
		{"the same instant is 0", "2026-12-08 16:00", "2026-12-08 16:00", 0},
		{"due Tuesday 16:00, at Friday 16:00 is 3 working days overdue", "2026-12-08 16:00", "2026-12-11 16:00", 3},
		{"due Tuesday 16:00, at Friday 15:59 is only 2 whole working days overdue", "2026-12-08 16:00", "2026-12-11 15:59", 2},
		{"reversed, Friday 16:00 back to Tuesday 16:00 is -3", "2026-12-11 16:00", "2026-12-08 16:00", -3},
		{"Tuesday 16:00 to Tuesday 23:59 is 0", "2026-12-08 16:00", "2026-12-08 23:59", 0},
		{"Friday 16:00 to Monday 15:59 is 0 despite three calendar days", "2026-12-04 16:00", "2026-12-07 15:59", 0},
		{"Friday 16:00 to Monday 16:00 is 1", "2026-12-04 16:00", "2026-12-07 16:00", 1},
		{"Friday 16:00 to Sunday 23:00 is 0", "2026-12-04 16:00", "2026-12-06 23:00", 0},
		{"Monday 09:00 to the next Monday 09:00 is 5", "2026-12-07 09:00", "2026-12-14 09:00", 5},
		{"Thursday 24 December 2026 16:00 to Tuesday 29 December 16:00 is 1", "2026-12-24 16:00", "2026-12-29 16:00", 1},
		{"Thursday 24 December 2026 16:00 to Monday 28 December 23:59 is 0", "2026-12-24 16:00", "2026-12-28 23:59", 0},
		{"Friday 23 October 2026 16:00 BST to Monday 16:00 GMT is 1 although 73 hours passed", "2026-10-23 16:00", "2026-10-26 16:00", 1},
		{"Thursday 25 March 2027 16:00 GMT to Tuesday 30 March 16:00 BST is 1 across Easter and the clock change", "2027-03-25 16:00", "2027-03-30 16:00", 1},
		{"raised Saturday 10:00, on Monday 10:00 is 0 (clock started Monday 09:00)", "2026-12-05 10:00", "2026-12-07 10:00", 0},
		{"raised Saturday 10:00, on Tuesday 09:00 is 1", "2026-12-05 10:00", "2026-12-08 09:00", 1},
		{"raised Saturday 10:00, on Tuesday 08:59 is 0", "2026-12-05 10:00", "2026-12-08 08:59", 0},
		{"Tuesday 09:00 back to Saturday 10:00 is -1", "2026-12-08 09:00", "2026-12-05 10:00", -1},
		{"Saturday to Sunday of the same weekend is 0", "2026-12-05 10:00", "2026-12-06 10:00", 0},
		{"Thursday 31 December 2026 09:00 to Friday 31 December 2027 09:00 spans the 253 working days of 2027",
			"2026-12-31 09:00", "2027-12-31 09:00", 253},
		{"Friday 1 January 2027 (a bank holiday) 09:00 to Monday 3 January 2028 (a bank holiday) 09:00 is 252",
			"2027-01-01 09:00", "2028-01-03 09:00", 252},
	}
	cal := EnglandAndWales()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := london(t, tt.from), london(t, tt.to)
			if got := cal.WorkingDaysBetween(from, to); got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
			if got := cal.WorkingDaysBetween(from.UTC(), to.UTC()); got != tt.want {
				t.Errorf("WorkingDaysBetween with UTC inputs = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseOffset(t *testing.T) {
	tests := []struct {
		in         string
		want       Offset
		wantString string
	}{
		{"1wd", WorkingDays(1), "1wd"},
		{"20wd", WorkingDays(20), "20wd"},
		{"+5wd", WorkingDays(5), "5wd"},
		{"-1wd", WorkingDays(-1), "-1wd"},
		{"007wd", WorkingDays(7), "7wd"},
		{"10000wd", WorkingDays(MaxWorkingDays), "10000wd"},
		{"-10000wd", WorkingDays(-MaxWorkingDays), "-10000wd"},
		{"0", Offset{}, "0"},
		{"0wd", Offset{}, "0"},
		{"-0wd", Offset{}, "0"},
		{"0s", Offset{}, "0"},
		{"90s", Duration(90 * time.Second), "1m30s"},
		{"-30s", Duration(-30 * time.Second), "-30s"},
		{"4h", Duration(4 * time.Hour), "4h0m0s"},
		{"1h30m", Duration(90 * time.Minute), "1h30m0s"},
		{"+500ms", Duration(500 * time.Millisecond), "500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.in+" parses and round-trips", func(t *testing.T) {
			got, err := ParseOffset(tt.in)
			if err != nil {
				t.Fatalf("ParseOffset(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseOffset(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.wantString {
				t.Errorf("String() = %q, want %q", s, tt.wantString)
			}
			again, err := ParseOffset(got.String())
			if err != nil || again != got {
				t.Errorf("ParseOffset(%q) = %#v, %v; want %#v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseOffsetErrors(t *testing.T) {
	const (
		notOffset  = ` is not a working-day offset ("Nwd") or a Go duration ("90s")`
		notWhole   = ` is not a whole number of working days (want "Nwd", e.g. "2wd" or "-1wd")`
		outOfRange = ` is out of range (at most 10000 working days either way)`
	)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty input", "", `calendar: empty offset; want working days ("Nwd", e.g. "2wd"), "0" or a Go duration (e.g. "90s")`},
		{"unknown unit", "3xd", `calendar: "3xd"` + notOffset},
		{"days are not a Go duration unit", "1d", `calendar: "1d"` + notOffset},
		{"upper-case unit", "1WD", `calendar: "1WD"` + notOffset},
		{"trailing space", "1wd ", `calendar: "1wd "` + notOffset},
		{"bare number other than 0", "5", `calendar: "5"` + notOffset},
		{"no number before wd", "wd", `calendar: "wd"` + notWhole},
		{"sign without number", "-wd", `calendar: "-wd"` + notWhole},
		{"two signs", "--1wd", `calendar: "--1wd"` + notWhole},
		{"mixed signs", "+-1wd", `calendar: "+-1wd"` + notWhole},
		{"fractional working days", "1.5wd", `calendar: "1.5wd"` + notWhole},
		{"space before wd", "1 wd", `calendar: "1 wd"` + notWhole},
		{"leading space", " 1wd", `calendar: " 1wd"` + notWhole},
		{"non-ASCII digit", "٣wd", `calendar: "٣wd"` + notWhole},
		{"sign after number", "1-wd", `calendar: "1-wd"` + notWhole},
		{"one more than the maximum", "10001wd", `calendar: "10001wd"` + outOfRange},
		{"one less than the minimum", "-10001wd", `calendar: "-10001wd"` + outOfRange},
		{"overflows int", "99999999999999999999wd", `calendar: "99999999999999999999wd"` + outOfRange},
		{"duration overflows", "9999999999h", `calendar: "9999999999h"` + notOffset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOffset(tt.in)
			if err == nil {
				t.Fatalf("ParseOffset(%q) = %v, want error", tt.in, got)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseOffset(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestOffsetAccessors(t *testing.T) {
	tests := []struct {
		name     string
		o        Offset
		zero     bool
		days     int
		daysOK   bool
		duration time.Duration
		durOK    bool
	}{
		{"zero offset is neither kind", Offset{}, true, 0, false, 0, false},
		{"-1wd is working days", WorkingDays(-1), false, -1, true, 0, false},
		{"90s is a duration", Duration(90 * time.Second), false, 0, false, 90 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.IsZero(); got != tt.zero {
				t.Errorf("IsZero() = %v, want %v", got, tt.zero)
			}
			if n, ok := tt.o.InWorkingDays(); n != tt.days || ok != tt.daysOK {
				t.Errorf("InWorkingDays() = %d, %v; want %d, %v", n, ok, tt.days, tt.daysOK)
			}
			if d, ok := tt.o.AsDuration(); d != tt.duration || ok != tt.durOK {
				t.Errorf("AsDuration() = %v, %v; want %v, %v", d, ok, tt.duration, tt.durOK)
			}
		})
	}
}

func TestWorkingDaysPanicsBeyondMaximum(t *testing.T) {
	for _, n := range []int{MaxWorkingDays + 1, -MaxWorkingDays - 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WorkingDays(%d) did not panic", n)
				}
			}()
			WorkingDays(n)
		}()
	}
}

func TestOffsetIsJSONText(t *testing.T) {
	type policy struct {
		Due      Offset `json:"due"`
		Reminder Offset `json:"reminder"`
	}
	in := policy{Due: WorkingDays(20), Reminder: WorkingDays(-1)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"due":"20wd","reminder":"-1wd"}`; string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}

	var out policy
	if err := json.Unmarshal([]byte(`{"due":"90s","reminder":"0"}`), &out); err != nil {
		t.Fatal(err)
	}
	if want := (policy{Due: Duration(90 * time.Second)}); out != want {
		t.Errorf("json.Unmarshal = %#v, want %#v", out, want)
	}

	err = json.Unmarshal([]byte(`{"due":"3xd"}`), &out)
	if err == nil || !strings.Contains(err.Error(), `"3xd" is not a working-day offset`) {
		t.Errorf("json.Unmarshal of a bad offset: error %v, want one naming \"3xd\"", err)
	}
}

// FuzzParseOffset checks that ParseOffset never panics and that anything it
// accepts prints, via String, to text that parses back to the same offset.
func FuzzParseOffset(f *testing.F) {
	for _, seed := range []string{
		"0", "1wd", "-1wd", "+5wd", "20wd", "10000wd", "10001wd", "wd", "-wd",
		"1.5wd", "90s", "-30s", "4h", "1h30m", "3xd", "", " 1wd", "1WD", "٣wd",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOffset(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("ParseOffset(%q) error %q lacks the package prefix", s, err)
			}
			return
		}
		again, err := ParseOffset(o.String())
		if err != nil {
			t.Fatalf("ParseOffset(%q).String() = %q, which does not parse: %v", s, o.String(), err)
		}
		if again != o {
			t.Fatalf("ParseOffset(%q) = %#v, but its String %q parses to %#v", s, o, o.String(), again)
		}
	})
}

// WorkingDaysBetween counts working dates instead of stepping through them; this holds it to
// its definition — the largest n >= 0 with Add(from, WorkingDays(n)) not after to — on random
// instants across weekends, bank holidays, clock changes and year ends, some a year apart.
func TestWorkingDaysBetweenMatchesItsDefinitionByAdd(t *testing.T) {
	cal := EnglandAndWales()
	base := time.Date(2019, 12, 20, 0, 0, 0, 0, cal.Location())
	seed := uint64(20261201)
	next := func(n int) int { // xorshift: repeatable without math/rand
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(n))
	}
	for i := 0; i < 3000; i++ {
		from := base.Add(time.Duration(next(11*365*24*60)) * time.Minute)
		to := from.Add(time.Duration(next([]int{3, 20, 400}[i%3]*24*60)) * time.Minute)
		want := 0
		for !cal.Add(from, WorkingDays(want+1)).After(to) {
			want++
		}
		if got := cal.WorkingDaysBetween(from, to); got != want {
			t.Fatalf("WorkingDaysBetween(%s, %s) = %d; Add says %d", from.Format(wallClock), to.Format(wallClock), got, want)
		}
		if got := cal.WorkingDaysBetween(to, from); got != -want {
			t.Fatalf("WorkingDaysBetween(%s, %s) = %d; want %d", to.Format(wallClock), from.Format(wallClock), got, -want)
		}
	}
}

func BenchmarkWorkingDaysBetweenAYear(b *testing.B) {
	cal := EnglandAndWales()
	from := time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	for b.Loop() {
		if cal.WorkingDaysBetween(from, to) < 250 {
			b.Fatal("too few working days in a year")
		}
	}
}

// inBound is whether from is inside OverdueBound(to, n).
func inBound(cal *Calendar, from, to time.Time, n int) bool {
	latest, skipFrom, skipTo := cal.OverdueBound(to, n)
	return !from.After(latest) && (from.Before(skipFrom) || !from.Before(skipTo))
}

func TestOverdueBoundIsTheBoundaryOfAtLeastNWorkingDays(t *testing.T) {
	cal := EnglandAndWales()
	ns := time.Nanosecond
	for _, tc := range []struct {
		to               string
		n                int
		latest           time.Time
		skipFrom, skipTo string
	}{
		{"2026-03-09 10:00", 1, london(t, "2026-03-06 10:00"), "", ""},          // Monday: the Friday before, same time
		{"2026-03-10 10:00", 3, london(t, "2026-03-05 10:00"), "", ""},          // Tuesday, 3: the Thursday before, across the weekend
		{"2026-03-07 14:00", 1, london(t, "2026-03-06 00:00").Add(-ns), "", ""}, // Saturday: due Friday 08:00 is not a day late yet
		{"2026-04-07 10:00", 1, london(t, "2026-04-02 10:00"), "", ""},          // Tuesday after Easter: Good Friday and Easter Monday skipped
		{"2026-04-07 10:00", 2, london(t, "2026-04-01 10:00"), "", ""},
		{"2026-04-06 12:00", 1, london(t, "2026-04-02 00:00").Add(-ns), "", ""},                        // on Easter Monday
		{"2026-03-10 08:30", 1, london(t, "2026-03-09 08:30"), "2026-03-07 00:00", "2026-03-09 00:00"}, // due Saturday counts from Monday 09:00
		{"2026-04-08 08:30", 1, london(t, "2026-04-07 08:30"), "2026-04-03 00:00", "2026-04-07 00:00"}, // and across Easter
	} {
		to := london(t, tc.to)
		latest, skipFrom, skipTo := cal.OverdueBound(to, tc.n)
		if !latest.Equal(tc.latest) {
			t.Errorf("OverdueBound(%s, %d) latest = %s; want %s", to.Format(wallClock), tc.n, latest.Format(wallClock), tc.latest.Format(wallClock))
		}
		if tc.skipFrom == "" {
			if !skipFrom.Equal(skipTo) {
				t.Errorf("OverdueBound(%s, %d) skips [%s, %s); want nothing", to.Format(wallClock), tc.n, skipFrom.Format(wallClock), skipTo.Format(wallClock))
			}
		} else if !skipFrom.Equal(london(t, tc.skipFrom)) || !skipTo.Equal(london(t, tc.skipTo)) {
			t.Errorf("OverdueBound(%s, %d) skips [%s, %s); want [%s, %s)", to.Format(wallClock), tc.n, skipFrom.Format(wallClock), skipTo.Format(wallClock), tc.skipFrom, tc.skipTo)
		}
		if cal.WorkingDaysBetween(latest, to) < tc.n || cal.WorkingDaysBetween(latest.Add(ns), to) >= tc.n {
			t.Errorf("OverdueBound(%s, %d) latest = %s is not the boundary", to.Format(wallClock), tc.n, latest.Format(wallClock))
		}
	}
	if latest, _, _ := cal.OverdueBound(london(t, "2026-03-09 10:00"), 0); !latest.Equal(london(t, "2026-03-09 10:00")) {
		t.Errorf("OverdueBound(to, 0) = %s; want to", latest)
	}
}

func TestOverdueBoundAgreesWithWorkingDaysBetween(t *testing.T) {
	cal := EnglandAndWales()
	base := time.Date(2019, 12, 20, 0, 0, 0, 0, cal.Location())
	seed := uint64(20260309)
	next := func(n int) int {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(n))
	}
	for i := 0; i < 3000; i++ {
		to := base.Add(time.Duration(next(11*365*24*60)) * time.Minute)
		n := 1 + next([]int{3, 25, 300}[i%3])
		latest, _, _ := cal.OverdueBound(to, n)
		for _, d := range []time.Duration{0, time.Nanosecond, time.Minute, time.Hour, 7 * time.Hour, 30 * time.Hour, 60 * time.Hour, 100 * time.Hour} {
			for _, from := range []time.Time{latest.Add(-d), latest.Add(d)} {
				if want := cal.WorkingDaysBetween(from, to) >= n; inBound(cal, from, to, n) != want {
					t.Fatalf("OverdueBound(%s, %d): %s judged %v; WorkingDaysBetween says %v", to.Format(wallClock), n, from.Format(wallClock), !want, want)
				}
			}
		}
	}
}
