package safeguard

import (
	"testing"
	"time"
)

func TestReportingFieldsAreOptionalAndCheckedFieldByField(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if err := validRaise().Validate(now); err != nil {
		t.Fatalf("a raise without gender, ethnicity, capacity or advocacy: %v", err)
	}
	r := validRaise()
	r.Subject.Gender, r.Subject.Ethnicity, r.LackedCapacity, r.Advocacy = "male", "black_african", "yes", "family_or_friend"
	if err := r.Validate(now); err != nil {
		t.Fatalf("a raise with every reporting field: %v", err)
	}
	r = validRaise()
	r.Subject.Gender, r.Subject.Ethnicity, r.LackedCapacity, r.Advocacy = "m", "British", "maybe", "lawyer"
	err := r.Validate(now)
	var fields map[string]string
	if e, ok := err.(*Error); ok {
		fields = e.Fields
	}
	for _, f := range []string{"subject.gender", "subject.ethnicity", "lacked_capacity", "advocacy"} {
		if fields[f] == "" {
			t.Errorf("%s not named in %v", f, err)
		}
	}
	r = validRaise()
	r.LackedCapacity, r.Advocacy = "no", "advocate"
	if err := r.Validate(now); err == nil || err.(*Error).Fields["advocacy"] == "" {
		t.Errorf("advocacy for an adult who did not lack capacity: %v; want advocacy named", err)
	}
}

func TestAgeBandIsTheAgeOnTheDayRaisedInLondon(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	for _, c := range []struct {
		dob  string
		at   time.Time
		want string
	}{
		{"1961-06-01", time.Date(2026, 5, 31, 12, 0, 0, 0, time.UTC), "18-64"},
		{"1961-06-01", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "65-74"},
		// 23:30 UTC on 31 May is 00:30 on 1 June in London: the birthday has come.
		{"1961-06-01", time.Date(2026, 5, 31, 23, 30, 0, 0, time.UTC), "65-74"},
		{"1931-01-01", time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), "95+"},
		{"nonsense", time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), "not_known"},
	} {
		if got := AgeBand(c.dob, c.at, london); got != c.want {
			t.Errorf("AgeBand(%s, %v) = %s; want %s", c.dob, c.at, got, c.want)
		}
	}
}

func TestPrimarySupportReasonTakesTheFirstNeedInPrecedence(t *testing.T) {
	for _, c := range []struct {
		needs []string
		want  string
	}{
		{[]string{"older_age", "mental_health"}, "mental_health"},
		{[]string{"physical", "learning_disability"}, "learning_disability"},
		{[]string{"older_age"}, "physical"},
		{[]string{"autism"}, "not_known"},
		{[]string{}, "no_support_reason"},
		{[]string{"other"}, "social_support"},
	} {
		if got := PrimarySupportReason(c.needs); got != c.want {
			t.Errorf("PrimarySupportReason(%v) = %s; want %s", c.needs, got, c.want)
		}
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	h := map[int]int{1: 5, 2: 3, 10: 2} // 1 1 1 1 1 2 2 2 10 10
	if m, p := Percentile(h, 50), Percentile(h, 90); m != 1 || p != 10 {
		t.Errorf("median %d, p90 %d; want 1, 10", m, p)
	}
	if Percentile(map[int]int{}, 50) != -1 {
		t.Error("the percentile of nothing should be -1")
	}
}

func TestPeriodMonthsSplitAtLondonMonthEnds(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	p, err := ParsePeriod("2026-01-15", "2026-03-10", london)
	if err != nil {
		t.Fatal(err)
	}
	ms := p.Months()
	if len(ms) != 3 || ms[0].From != "2026-01-15" || ms[0].To != "2026-01-31" || ms[2].From != "2026-03-01" || ms[2].To != "2026-03-10" {
		t.Errorf("months = %+v", ms)
	}
}
