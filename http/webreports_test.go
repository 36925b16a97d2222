package http

import (
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard"
)

// The charts are drawn on the server from the same figures as the table: the bar for a clock
// met on time three times in four is three quarters of the width a clock always met on time
// gets, and a clock none met says so rather than drawing nothing.
func TestReportsPageDrawsTheTimescalesAsSVGWithoutStyle(t *testing.T) {
	rows := []safeguard.TimescaleRow{
		{Month: "all", Clock: safeguard.ClockLAAcknowledgement, Organisation: "all", Met: 4, MetOnTime: 3, ShareOnTime: 0.75, MedianWorkingDays: 1, P90WorkingDays: 2},
		{Month: "all", Clock: safeguard.ClockTriageDecision, Organisation: "all", Met: 2, MetOnTime: 2, ShareOnTime: 1, MedianWorkingDays: 2, P90WorkingDays: 4},
		{Month: "2026-05", Clock: safeguard.ClockTriageDecision, Organisation: "all", Met: 99, MetOnTime: 0},
	}
	ts := timescaleViews(rows)
	if len(ts) != len(safeguard.ClockNames) || ts[0].OnTime != "75%" || ts[1].OnTime != "100%" || ts[2].HasMet || ts[2].OnTime != "none met" {
		t.Fatalf("timescale views: %+v", ts)
	}
	onTime, days := timescaleCharts(ts)
	full, three := onTime.Bars[1].Segments[0].W, onTime.Bars[0].Segments[0].W
	if full == 0 || three*4 != full*3 && (three*4-full*3) > 4 {
		t.Errorf("bar widths %d (75%%) and %d (100%%) are not in proportion", three, full)
	}
	if len(onTime.Bars[2].Segments) != 0 || onTime.Bars[2].ValueText != "none met" {
		t.Errorf("a clock none met is drawn: %+v", onTime.Bars[2])
	}
	if p90 := days.Bars[1].Segments[1].W; p90 != chartWidth-chartLabelWidth-70 {
		t.Errorf("the longest 90th percentile bar is %d wide, want the full span", p90)
	}
	v := reportsPage{From: "2026-01-01", To: "2026-12-31", SACCSV: "/reports/sac.csv?from=2026-01-01&to=2026-12-31", TimescalesCSV: "/reports/timescales.csv?from=2026-01-01&to=2026-12-31", Timescales: ts, OnTimeChart: onTime, DaysChart: days}
	body := renderPage(t, "reports", View{User: &safeguard.User{Name: "M", Role: safeguard.RolePrisonManager, OrgCode: "LEI"}, Title: "Reports", Data: v, Form: &Form{}})
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-on-time-title chart-on-time-desc"`,
		`<title id="chart-on-time-title">Share of deadlines met on time</title>`, `fill="#1d70b8"`, `href="/reports/timescales.csv?from=2026-01-01&amp;to=2026-12-31"`,
		`<th scope="row">Acknowledgement by the host local authority</th><td class="numeric">4</td><td class="numeric">3</td><td class="numeric">75%</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the reports page lacks %s", want)
		}
	}
	if strings.Contains(body, "Safeguarding Adults Collection") {
		t.Error("the SAC section is shown without ShowSAC")
	}
}

func TestPolicyOffsetsInWords(t *testing.T) {
	for in, want := range map[string]string{"-1wd": "1 working day before due", "0": "At the due time", "2wd": "2 working days after due", "1m30s": "1m30s after due"} {
		if got := stepWords(in); got != want {
			t.Errorf("stepWords(%q) = %q, want %q", in, got, want)
		}
	}
	if got := offsetWords("20wd"); got != "20 working days" {
		t.Errorf("offsetWords(20wd) = %q", got)
	}
}
