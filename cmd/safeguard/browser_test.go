package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive Debian's Chromium, headless, against the real service (real HTTP,
// embedded Temporal, SQLite): the three groups of users each do their part through the pages,
// one walks the raise form with the keyboard alone, and axe-core checks every page and every
// error state against WCAG 2.2 AA. Each page's screenshot goes to test-output/screenshots;
// SAFEGUARD_UPDATE_SCREENSHOTS=1 also refreshes the two the README shows, in docs/screenshots.
// Without Chromium or axe-core the tests skip — except under CI=true, where they fail.

// browserPolicy makes the host LA's acknowledgement due 2s after raising, with the overdue
// notice at due, so a concern left alone is overdue (step 1) by the time the manager looks.
const browserPolicy = `
timezone: Europe/London
calendar: england-and-wales
clocks:
  la_acknowledgement: {due: 2s, ladder: [{at: 0, notify: [responsible_inbox]}]}
  triage_decision: {due: 10wd, ladder: []}
  la_contribution: {due: 5wd, ladder: []}
  enquiry_completion: {due: 20wd, ladder: []}
  closure_signoff: {due: 5wd, ladder: []}
  handover_acknowledgement: {due: 1wd, ladder: []}
`

const browserPassword = "heron quilt marble ferry"

// needBrowser finds Chromium and axe-core, or skips (fails under CI).
func needBrowser(t *testing.T) (chromium, axe string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and CI must run the browser tests: .ci/run installs it", what)
		}
		t.Skipf("%s is missing: apt-get install chromium, and npm ci at the repository root", what)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		missing("Chromium")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		missing("axe-core (node_modules/axe-core/axe.min.js)")
	}
	return chromium, string(b)
}

// tab is one browser tab with what a test needs around it.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
	shot string // the screenshot folder
	// checked counts the pages and states axe-core has passed.
	checked []string
}

func newTab(t *testing.T, chromium, axe, base string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	shot := filepath.Join("..", "..", "test-output", "screenshots")
	if err := os.MkdirAll(shot, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, base: base, axe: axe, shot: shot}
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) eval(js string, into any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			b.t.Fatalf("decode %s: %v", raw, err)
		}
	}
}

// mark marks the page now shown, so that waitFor can tell when the next one has loaded.
func (b *tab) mark() {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`window.sgOld = true`)); err != nil {
		b.t.Fatal(err)
	}
}

// waitFor waits, across navigations, until a page other than the marked one has loaded and its
// path starts with prefix ("/" means the home page itself).
func (b *tab) waitFor(prefix string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search + "|" + document.readyState + "|" + (window.sgOld === true)`))
		if err == nil {
			parts := strings.Split(raw, "|")
			path, state, old := parts[0], parts[1], parts[2] == "true"
			ok := strings.HasPrefix(path, prefix)
			if prefix == "/" {
				ok = path == "/" || strings.HasPrefix(path, "/?")
			}
			if ok && state == "complete" && !old {
				return path
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("the page did not reach %s", prefix)
	return ""
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.mark()
	b.do(chromedp.Navigate(b.base + path))
	b.waitFor(strings.SplitN(path, "?", 2)[0])
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *tab) body() string { return b.text("body") }

// check runs axe-core on the page as it is (WCAG 2.0, 2.1 and 2.2, A and AA), fails the test on
// any violation, and saves a screenshot named after the state.
func (b *tab) check(name string) {
	b.t.Helper()
	var present bool
	b.eval(`typeof window.axe === "object"`, &present)
	if !present {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
			b.t.Fatalf("inject axe-core: %v", err)
		}
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}).then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	var violations []struct {
		ID, Help string
		Nodes    []string
	}
	if err := json.Unmarshal(raw, &violations); err != nil {
		b.t.Fatal(err)
	}
	for _, v := range violations {
		b.t.Errorf("WCAG 2.2 AA: %s: %s (%s)\n  %s", name, v.Help, v.ID, strings.Join(v.Nodes, "\n  "))
	}
	b.checked = append(b.checked, name)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if os.Getenv("SAFEGUARD_UPDATE_SCREENSHOTS") == "1" && (name == "raise-errors" || name == "concern") {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

func (b *tab) signIn(email string) {
	b.t.Helper()
	b.open("/sign-in")
	b.mark()
	b.do(chromedp.SendKeys(chromedp.CSS("#f-email"), email), chromedp.SendKeys(chromedp.CSS("#f-password"), browserPassword),
		chromedp.Click(chromedp.CSS("main button[type=submit]")))
	b.waitFor("/")
	if !strings.Contains(b.body(), "Signed in as") {
		b.t.Fatalf("%s is not signed in:\n%s", email, b.body())
	}
}

func (b *tab) signOut() {
	b.t.Helper()
	b.mark()
	b.do(chromedp.Click(chromedp.CSS(".account button")))
	b.waitFor("/sign-in")
}

// submit clicks the button of the form whose action ends with suffix and waits for the answer.
func (b *tab) submit(actionSuffix, wantPath string) {
	b.t.Helper()
	b.mark()
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action$="%s"] button[type=submit]`, actionSuffix))))
	b.waitFor(wantPath)
}

// cookie returns the tab's session cookie, for a plain HTTP client to act as the same person.
func (b *tab) cookie() *http.Cookie {
	b.t.Helper()
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range cookies.Cookies {
		if c.Name == "__Host-safeguard_session" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	b.t.Fatal("no session cookie in the browser")
	return nil
}

var concernPath = regexp.MustCompile(`^/concerns/(SG-LEI-\d{4}-\d{5})`)

func TestBrowserJourneys(t *testing.T) {
	chromium, axe := needBrowser(t)
	e := env{"SAFEGUARD_POLICY_FILE": writePolicy(t, browserPolicy)}
	svc := startService(t, e)
	for _, email := range []string{lead, practitioner, laManager, admin} {
		if code, _, errOut := cli(t, e, browserPassword+"\n", "user", "password", "--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("user password %s: %s", email, errOut)
		}
	}
	// A concern nobody acknowledges: overdue for the host LA within 2s.
	late := svc.raise(t)
	b := newTab(t, chromium, axe, svc.base)

	// Pages anyone may see.
	b.open("/sign-in")
	b.check("sign-in")
	b.mark()
	b.do(chromedp.Click(chromedp.CSS("main button[type=submit]")))
	b.waitFor("/sign-in")
	b.check("sign-in-errors")
	b.open("/accessibility")
	b.check("accessibility")
	b.open("/dev/mail")
	if !strings.Contains(b.body(), "Development mailbox") {
		t.Errorf("the development mailbox is not shown:\n%s", b.body())
	}
	b.check("dev-mail")
	b.open("/privacy")
	b.check("privacy")

	var ref string
	t.Run("a prison lead raises a concern, after one failed submission", func(t *testing.T) {
		b.t = t
		b.signIn(lead)
		b.check("work-prison-lead")
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(`main a[href="/concerns/new"]`)))
		b.waitFor("/concerns/new")
		b.check("raise")
		// The first try: a name, a wrong prison number, a date that does not exist.
		b.do(chromedp.SendKeys(chromedp.CSS("#f-subject-name"), "Browser Test Adult"),
			chromedp.SendKeys(chromedp.CSS("#f-subject-prison-number"), "12345"),
			chromedp.SendKeys(chromedp.CSS("#f-subject-date-of-birth"), "31"),
			chromedp.SendKeys(chromedp.CSS("#f-subject-date-of-birth-month"), "2"),
			chromedp.SendKeys(chromedp.CSS("#f-subject-date-of-birth-year"), "1958"),
			chromedp.Click(chromedp.CSS("#f-categories-neglect")))
		b.submit("/concerns/new", "/concerns/new")
		page := b.body()
		for _, want := range []string{"There is a problem", "Prison number must be a prison number", "Date of birth must be a real date",
			"Select at least one care and support need", "Select whether the adult is at immediate risk", "Enter what happened"} {
			if !strings.Contains(page, want) {
				t.Errorf("the failed submission does not say %q", want)
			}
		}
		var kept struct {
			Name    string `json:"name"`
			Neglect bool   `json:"neglect"`
		}
		b.eval(`({name: document.querySelector("#f-subject-name").value, neglect: document.querySelector("#f-categories-neglect").checked})`, &kept)
		if kept.Name != "Browser Test Adult" || !kept.Neglect {
			t.Errorf("what was typed is not kept: %+v", kept)
		}
		if n := svc.count(t, "concerns"); n != 1 {
			t.Errorf("%d concerns after a refused submission; want only the one raised before", n)
		}
		b.check("raise-errors")

		// Put it right.
		b.do(chromedp.Clear(chromedp.CSS("#f-subject-prison-number")), chromedp.SendKeys(chromedp.CSS("#f-subject-prison-number"), "a1234bc"),
			chromedp.Clear(chromedp.CSS("#f-subject-date-of-birth")), chromedp.SendKeys(chromedp.CSS("#f-subject-date-of-birth"), "27"),
			chromedp.Clear(chromedp.CSS("#f-subject-date-of-birth-month")), chromedp.SendKeys(chromedp.CSS("#f-subject-date-of-birth-month"), "3"),
			chromedp.Click(chromedp.CSS("#f-subject-support-needs-older_age")),
			chromedp.Click(chromedp.CSS("#f-location-of-risk")), chromedp.Click(chromedp.CSS("#f-source-of-risk-other_known")),
			chromedp.SendKeys(chromedp.CSS("#f-summary"), "Seen without his walking frame for three days; says others took it."),
			chromedp.Click(chromedp.CSS("#f-immediate-risk-no")),
			chromedp.SendKeys(chromedp.CSS("#f-actions-taken"), "Frame replaced by healthcare; wing staff told."),
			chromedp.Click(chromedp.CSS("#f-police-informed-no")), chromedp.Click(chromedp.CSS("#f-allegation-against-staff-no")),
			chromedp.Click(chromedp.CSS("#f-consent-given")), chromedp.Click(chromedp.CSS("#f-capacity-concern-no")),
			chromedp.Click(chromedp.CSS("#f-desired-outcomes-asked")),
			chromedp.SendKeys(chromedp.CSS("#f-desired-outcomes-outcomes"), "To keep his frame and feel safe on the wing."))
		b.submit("/concerns/new", "/concerns/SG-")
		m := concernPath.FindStringSubmatch(b.waitFor("/concerns/SG-"))
		if m == nil {
			t.Fatal("no concern page after raising")
		}
		ref = m[1]
		if h := b.text("h1"); h != "Concern "+ref {
			t.Errorf("concern page heading %q", h)
		}
		for _, want := range []string{"A1234BC", "Browser Test Adult", "older age", "Triage decision", "Due in"} {
			if !strings.Contains(b.body(), want) {
				t.Errorf("the concern page lacks %q", want)
			}
		}

		// The same form sent twice (a double click, a resend) raises one concern: the hidden
		// key is the Idempotency-Key.
		form := url.Values{"idempotency_key": {"double-submit-key-1"}, "establishment": {"LEI"}, "subject.prison_number": {"B2345CD"},
			"subject.name": {"Twice Sent"}, "subject.date_of_birth.day": {"1"}, "subject.date_of_birth.month": {"1"}, "subject.date_of_birth.year": {"1950"},
			"subject.support_needs": {"older_age"}, "categories": {"financial"}, "location_of_risk": {"custody"}, "source_of_risk": {"other_known"},
			"summary": {"Canteen taken."}, "immediate_risk": {"no"}, "actions_taken": {"none"}, "police_informed": {"no"},
			"consent.given": {"yes"}, "capacity_concern": {"no"}, "desired_outcomes.asked": {"yes"}}
		before := svc.count(t, "concerns")
		var locations []string
		for range 2 {
			req, _ := http.NewRequest("POST", svc.base+"/concerns/new", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(b.cookie())
			res, err := browser(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("raise form posted: %d", res.StatusCode)
			}
			locations = append(locations, res.Header.Get("Location"))
		}
		if locations[0] != locations[1] || svc.count(t, "concerns") != before+1 {
			t.Errorf("the same form sent twice: %v, %d concerns more; want one", locations, svc.count(t, "concerns")-before)
		}

		// Triage: a refused decision first (an error state), then the enquiry.
		b.open("/concerns/" + ref)
		b.submit("/triage", "/concerns/"+ref+"/triage")
		if !strings.Contains(b.body(), "Select a triage decision") {
			t.Errorf("triage without a decision is not explained:\n%s", b.body())
		}
		b.check("concern-triage-errors")
		b.do(chromedp.Click(chromedp.CSS("#f-triage-decision")))
		b.submit("/triage", "/concerns/"+ref+"?done=triage")
		b.check("concern")

		// The error pages: a concern that does not exist (404), a page the role may not see (403).
		b.open("/concerns/SG-LEI-2026-99999")
		if h := b.text("h1"); h != "Page not found" {
			t.Errorf("a missing concern's page is headed %q", h)
		}
		b.check("not-found")
		b.open("/admin/users")
		if h := b.text("h1"); h != "You cannot do that" {
			t.Errorf("a forbidden page is headed %q", h)
		}
		b.check("forbidden")
		b.signOut()
	})
	if ref == "" {
		t.FailNow()
	}

	t.Run("a council practitioner acknowledges and contributes", func(t *testing.T) {
		b.t = t
		b.signIn(practitioner)
		if !strings.Contains(b.body(), ref) || !strings.Contains(b.body(), "Acknowledgement by the host local authority") {
			t.Errorf("the practitioner's work does not list the acknowledgement of %s:\n%s", ref, b.body())
		}
		b.check("work-la-practitioner")
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href="/concerns/%s"]`, ref))))
		b.waitFor("/concerns/" + ref)
		if strings.Contains(b.body(), "Record the triage decision") || strings.Contains(b.body(), "Propose closure") {
			t.Error("the practitioner is offered the prison lead's actions")
		}
		b.do(chromedp.SendKeys(chromedp.CSS("#f-acknowledge-note"), "Duty social worker will advise."))
		b.submit("/acknowledge", "/concerns/"+ref+"?done=acknowledge")
		if !strings.Contains(b.body(), "You acknowledged the concern.") {
			t.Errorf("no confirmation of the acknowledgement:\n%s", b.body())
		}
		b.signOut()

		// The lead asks the host LA for advice.
		b.signIn(lead)
		b.open("/concerns/" + ref)
		b.do(chromedp.SendKeys(chromedp.CSS("#f-contribution-requests-organisation"), "E08000035"),
			chromedp.SendKeys(chromedp.CSS("#f-contribution-requests-question"), "Does he need a care and support assessment for mobility?"))
		b.submit("/contribution-requests", "/concerns/"+ref+"?done=contribution-requests")
		b.signOut()

		b.signIn(practitioner)
		b.open("/concerns/" + ref)
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/concerns/%s/contribute"]`, ref))))
		b.waitFor("/concerns/" + ref + "/contribute")
		if !strings.Contains(b.body(), "Does he need a care and support assessment for mobility?") {
			t.Error("the contribute page does not show the question asked")
		}
		b.check("contribute")
		b.submit("/contributions?from=contribute", "/concerns/"+ref+"/contributions")
		if !strings.Contains(b.body(), "Enter your advice") || !strings.Contains(b.body(), "Select whether a care and support assessment is needed") {
			t.Errorf("an empty contribution is not explained:\n%s", b.body())
		}
		b.check("contribute-errors")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-contributions-advice"), "Yes: we will assess within 28 days; meanwhile a frame check each week."),
			chromedp.Click(chromedp.CSS("#f-contributions-care-assessment")))
		b.submit("/contributions?from=contribute", "/concerns/"+ref+"?done=contributions")
		if !strings.Contains(b.body(), "we will assess within 28 days") {
			t.Error("the advice is not on the concern page")
		}
		b.check("concern-after-advice")
		b.signOut()
	})

	t.Run("a manager finds the overdue concern and downloads the CSV", func(t *testing.T) {
		b.t = t
		waitFor(t, 30*time.Second, "the unacknowledged concern to be overdue", func() bool {
			var n int
			_ = svc.db().Get(&n, `SELECT COUNT(*) FROM clocks WHERE reference = ? AND name = 'la_acknowledgement' AND step >= 1`, late)
			return n == 1
		})
		b.signIn(laManager)
		b.check("work-la-manager")
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(`nav a[href="/overdue"]`)))
		b.waitFor("/overdue")
		if !strings.Contains(b.body(), late) {
			t.Fatalf("the overdue audit does not list %s:\n%s", late, b.body())
		}
		b.check("overdue")
		// A bad filter is explained, not ignored.
		b.open("/overdue?min_days=lots")
		if !strings.Contains(b.body(), "Days overdue must be a whole number") {
			t.Error("a bad filter is not explained")
		}
		b.check("overdue-errors")
		b.open("/overdue")
		b.do(chromedp.SetValue(chromedp.CSS("#f-clock"), "la_acknowledgement"), chromedp.SetValue(chromedp.CSS("#f-step"), "1"))
		b.submit("/overdue", "/overdue?")
		var shown []string
		b.eval(`[...document.querySelectorAll("main tbody tr td:first-child a")].map(a => a.textContent)`, &shown)
		if !slices.Contains(shown, late) || slices.Contains(shown, ref) {
			t.Errorf("filtered on the acknowledgement clock at step 1: %v; want %s and not %s", shown, late, ref)
		}

		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.Click(chromedp.CSS(`a[href^="/overdue.csv"]`)))
		var rows [][]string
		waitFor(t, 15*time.Second, "the CSV download", func() bool {
			f, err := os.Open(filepath.Join(dir, "overdue.csv"))
			if err != nil {
				return false
			}
			defer f.Close()
			rows, err = csv.NewReader(f).ReadAll()
			return err == nil && len(rows) > 0
		})
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
		if rows[0][0] != "reference" || !slices.Equal(got, shown) {
			t.Errorf("the CSV holds %v; the page shows %v", got, shown)
		}
		b.signOut()
	})

	t.Run("reports and administration", func(t *testing.T) {
		b.t = t
		b.signIn(laManager)
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(`nav a[href="/reports"]`)))
		b.waitFor("/reports")
		if body := b.body(); !strings.Contains(body, "Safeguarding Adults Collection") || !strings.Contains(body, "Performance against timescales") {
			t.Errorf("the reports page lacks its sections:\n%s", body)
		}
		var charts int
		b.eval(`document.querySelectorAll("main svg[role=img]").length`, &charts)
		if charts != 2 && !strings.Contains(b.body(), "No deadline was met") {
			t.Errorf("%d charts on the reports page, want 2", charts)
		}
		b.check("reports")
		b.open("/reports?from=2026-02-31&to=yesterday")
		if body := b.body(); !strings.Contains(body, "There is a problem") || !strings.Contains(body, "YYYY-MM-DD") {
			t.Errorf("bad report dates are not explained:\n%s", body)
		}
		b.check("reports-errors")
		// The printable evidence bundle, from the concern page's link.
		b.open("/concerns/" + ref)
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href="/concerns/%s/evidence"]`, ref))))
		b.waitFor("/concerns/" + ref + "/evidence")
		if body := b.body(); !strings.Contains(body, "Evidence bundle for concern "+ref) || !strings.Contains(body, "Chronology") ||
			!strings.Contains(body, "we will assess within 28 days") || !strings.Contains(body, "Access log") {
			t.Errorf("the evidence page lacks its sections:\n%s", body)
		}
		var hashes int
		b.eval(`document.querySelectorAll("main td.hash").length`, &hashes)
		if hashes == 0 {
			t.Error("the evidence page's access log shows no audit hashes")
		}
		b.check("evidence")
		b.signOut()

		b.signIn(admin)
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(`nav a[href="/admin/users"]`)))
		b.waitFor("/admin/users")
		b.check("admin-users")
		users := svc.count(t, "users")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-email"), "not an address"))
		b.submit("/admin/users", "/admin/users")
		if body := b.body(); !strings.Contains(body, "Enter the person's work email address") || !strings.Contains(body, "Enter the person's name") || svc.count(t, "users") != users {
			t.Errorf("a bad new user is not explained field by field, or was stored:\n%s", body)
		}
		b.check("admin-users-errors")
		b.do(chromedp.SetValue(chromedp.CSS("#f-email"), "new.practitioner@leeds.example.org"), chromedp.SendKeys(chromedp.CSS("#f-name"), "New Practitioner"),
			chromedp.SendKeys(chromedp.CSS("#f-org"), "E08000035"), chromedp.Click(chromedp.CSS(`input[name=role][value=la_practitioner]`)))
		b.submit("/admin/users", "/admin/users")
		if body := b.body(); !strings.Contains(body, "New Practitioner has been added") || !strings.Contains(body, "/sign-in/setup?token=") || svc.count(t, "users") != users+1 {
			t.Fatalf("adding a user:\n%s", body)
		}
		b.check("admin-user-added")
		setup, err := url.Parse(b.text(".notification code.secret"))
		if err != nil || setup.Path != "/sign-in/setup" {
			t.Fatalf("the one-time link %q: %v", b.text(".notification code.secret"), err)
		}
		b.mark()
		b.do(chromedp.Click(chromedp.CSS(`.notification a[href^="/admin/users/"]`)))
		userPage := b.waitFor("/admin/users/")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-name"), "nightly export"))
		b.submit("/tokens", "/admin/users/")
		secret := b.text("code.secret")
		if !strings.HasPrefix(secret, "sgt_") {
			t.Fatalf("the new token is not shown once: %q", secret)
		}
		b.check("admin-token-created")
		b.open(userPage)
		if body := b.body(); strings.Contains(body, secret) || !strings.Contains(body, "nightly export") {
			t.Errorf("the token list shows the secret again, or not the token")
		}
		b.check("admin-user")
		b.open("/admin/organisations")
		b.check("admin-organisations")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-code"), "lei"), chromedp.Click(chromedp.CSS(`input[name=kind][value=prison]`)))
		b.submit("/admin/organisations", "/admin/organisations")
		if body := b.body(); !strings.Contains(body, "Enter the organisation's name") || !strings.Contains(body, "Host local authority is required for a prison or approved premises") {
			t.Errorf("a bad organisation is not explained:\n%s", body)
		}
		b.check("admin-organisations-errors")
		b.open("/admin/policy")
		if !strings.Contains(b.body(), "Acknowledgement by the host local authority") {
			t.Errorf("the policy page lacks the clocks:\n%s", b.body())
		}
		b.check("admin-policy")
		b.signOut()

		// The new user follows their one-time link: a mismatched confirmation is explained,
		// then the password is set and they are signed in.
		b.open(setup.RequestURI())
		if !strings.Contains(b.body(), "new.practitioner@leeds.example.org") {
			t.Errorf("the setup page does not name the account:\n%s", b.body())
		}
		b.check("setup")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-password"), browserPassword), chromedp.SendKeys(chromedp.CSS("#f-confirm"), "something else entirely"))
		b.submit("/sign-in/setup", "/sign-in/setup")
		if body := b.body(); !strings.Contains(body, "There is a problem") {
			t.Errorf("a mismatched confirmation is not explained:\n%s", body)
		}
		b.check("setup-errors")
		b.do(chromedp.SendKeys(chromedp.CSS("#f-password"), browserPassword), chromedp.Clear(chromedp.CSS("#f-confirm")), chromedp.SendKeys(chromedp.CSS("#f-confirm"), browserPassword))
		b.submit("/sign-in/setup", "/")
		if !strings.Contains(b.body(), "Signed in as New Practitioner") {
			t.Errorf("the one-time link did not sign the new user in:\n%s", b.body())
		}
		b.signOut()
	})

	t.Run("the raise form with the keyboard alone", func(t *testing.T) {
		b.t = t
		b.signIn(lead)
		b.open("/concerns/new")
		before := svc.count(t, "concerns")
		b.mark()
		// What to do on reaching each field: type into it, or press Space to choose it. Every
		// choice wanted is the first of its group, the one Tab lands on.
		plan := map[string]string{
			"f-subject-prison-number": "C3456DE", "f-subject-name": "Keyboard Only", "f-subject-date-of-birth": "5",
			"f-subject-date-of-birth-month": "11", "f-subject-date-of-birth-year": "1949",
			"f-subject-support-needs": " ", "f-categories": " ", "f-location-of-risk": " ", "f-source-of-risk": " ",
			"f-summary": "Reported by a keyboard user.", "f-immediate-risk": " ", "f-actions-taken": "none", "f-police-informed": " ",
			"f-allegation-against-staff": "", "f-consent-given": " ", "f-capacity-concern": " ", "f-desired-outcomes-asked": " ",
			"f-desired-outcomes-outcomes": "To be safe.",
		}
		done := map[string]bool{}
		for range 200 {
			b.do(chromedp.KeyEvent(kb.Tab))
			var focus struct {
				ID, Tag, Type, Text string
				Visible             bool
			}
			b.eval(`(() => { const e = document.activeElement, s = getComputedStyle(e);
				return {id: e.id, tag: e.tagName, type: e.type || "", text: (e.textContent || "").trim(),
					visible: s.outlineStyle !== "none" || s.boxShadow !== "none" || s.backgroundColor !== "rgba(0, 0, 0, 0)"} })()`, &focus)
			if !focus.Visible {
				t.Errorf("the focus on %s %s is not visible", focus.Tag, focus.ID)
			}
			if keys, ok := plan[focus.ID]; ok && !done[focus.ID] {
				done[focus.ID] = true
				if keys != "" {
					b.do(chromedp.KeyEvent(keys))
				}
			}
			if focus.Tag == "BUTTON" && focus.Text == "Raise concern" {
				b.do(chromedp.KeyEvent(kb.Enter))
				break
			}
		}
		for id := range plan {
			if !done[id] {
				t.Errorf("Tab never reached %s", id)
			}
		}
		path := b.waitFor("/concerns/")
		if concernPath.FindStringSubmatch(path) == nil {
			t.Fatalf("the keyboard-only raise ended on %s:\n%s", path, b.body())
		}
		if svc.count(t, "concerns") != before+1 || !strings.Contains(b.body(), "Keyboard Only") {
			t.Error("the keyboard-only raise did not record the concern")
		}
	})
	t.Logf("axe-core passed %d pages and states: %s", len(b.checked), strings.Join(b.checked, ", "))
}

func (r *running) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := r.db().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}
