package safeguard

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The concern these tests follow: raised at HMP Leeds (LEI), hosted by Leeds City Council,
// at 09:00 on Monday 2 March 2026. Every identifier here starts with "lc" so that the table
// of names shared with the package's other tests stays clear.
const (
	lcRef       = "SG-LEI-2026-00001"
	lcLEI       = "LEI"       // the owning prison
	lcLeeds     = "E08000035" // its host local authority
	lcWDI       = "WDI"       // HMP Wakefield, another prison
	lcWakefield = "E08000036" // Wakefield's host LA, and where the adult is released to
	lcBradford  = "E08000032" // a local authority with no part in the concern
	lcNHS       = "NHS-LEEDS" // the prison's healthcare provider
	lcAPCode    = "AP-BEDFORD"
)

var lcT0 = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// lcAt is h hours after the concern was raised.
func lcAt(h int) time.Time { return lcT0.Add(time.Duration(h) * time.Hour) }

// lcPolicy gives every clock a different span, so that a clock due from the wrong start or
// under the wrong name shows.
var lcPolicy = map[string]time.Duration{
	ClockLAAcknowledgement:       24 * time.Hour,
	ClockTriageDecision:          48 * time.Hour,
	ClockLAContribution:          5 * 24 * time.Hour,
	ClockEnquiryCompletion:       28 * 24 * time.Hour,
	ClockClosureSignoff:          7 * 24 * time.Hour,
	ClockHandoverAcknowledgement: 25 * time.Hour,
}

// lcDue is the fixed scheduler; a clock it does not know is a bug in the lifecycle.
func lcDue(clock string, start time.Time) time.Time {
	d, ok := lcPolicy[clock]
	if !ok {
		panic("the lifecycle asked the scheduler for an unknown clock " + strings.TrimSpace(clock))
	}
	return start.Add(d)
}

// The people who act on it.
var (
	lcLead         = User{ID: 1, Name: "Leeds safeguarding lead", OrgCode: lcLEI, OrgKind: KindPrison, Role: RolePrisonLead}
	lcManager      = User{ID: 2, Name: "Leeds governor", OrgCode: lcLEI, OrgKind: KindPrison, Role: RolePrisonManager}
	lcPractitioner = User{ID: 3, Name: "Leeds social worker", OrgCode: lcLeeds, OrgKind: KindLocalAuthority, Role: RoleLAPractitioner}
	lcLAManager    = User{ID: 4, Name: "Leeds team manager", OrgCode: lcLeeds, OrgKind: KindLocalAuthority, Role: RoleLAManager}
	lcPartner      = User{ID: 5, Name: "Healthcare lead", OrgCode: lcNHS, OrgKind: KindHealth, Role: RolePartner}
	lcStranger     = User{ID: 6, Name: "Bradford social worker", OrgCode: lcBradford, OrgKind: KindLocalAuthority, Role: RoleLAPractitioner}
	lcWDILead      = User{ID: 7, Name: "Wakefield safeguarding lead", OrgCode: lcWDI, OrgKind: KindPrison, Role: RolePrisonLead}
	lcAuditor      = User{ID: 8, Name: "National auditor", OrgCode: "HMIP", OrgKind: KindProbation, Role: RoleAuditor}
	lcReceiver     = User{ID: 9, Name: "Wakefield social worker", OrgCode: lcWakefield, OrgKind: KindLocalAuthority, Role: RoleLAPractitioner}
	lcWDIManager   = User{ID: 10, Name: "Wakefield governor", OrgCode: lcWDI, OrgKind: KindPrison, Role: RolePrisonManager}
	lcRecManager   = User{ID: 11, Name: "Wakefield team manager", OrgCode: lcWakefield, OrgKind: KindLocalAuthority, Role: RoleLAManager}
)

// Organisations a command can name, fresh each time so that no test shares one.
func lcOrgLEI() *Organisation {
	return &Organisation{Code: lcLEI, Name: "HMP Leeds", Kind: KindPrison, HostLA: lcLeeds}
}
func lcOrgWDI() *Organisation {
	return &Organisation{Code: lcWDI, Name: "HMP Wakefield", Kind: KindPrison, HostLA: lcWakefield}
}
func lcOrgAP() *Organisation {
	return &Organisation{Code: lcAPCode, Name: "Bedford AP", Kind: KindApprovedPremises, HostLA: "E06000055"}
}
func lcOrgLeeds() *Organisation {
	return &Organisation{Code: lcLeeds, Name: "Leeds City Council", Kind: KindLocalAuthority}
}
func lcOrgWakefield() *Organisation {
	return &Organisation{Code: lcWakefield, Name: "Wakefield Council", Kind: KindLocalAuthority}
}
func lcOrgBradford() *Organisation {
	return &Organisation{Code: lcBradford, Name: "Bradford Council", Kind: KindLocalAuthority}
}
func lcOrgNHS() *Organisation {
	return &Organisation{Code: lcNHS, Name: "Leeds prison healthcare", Kind: KindHealth}
}

func lcBool(b bool) *bool { return &b }

// Commands, each with a valid input unless a test changes it.

func lcCmd(a Action, u User, in Input) Command { return Command{Action: a, Actor: u, Input: in} }

func lcAcknowledge(u User) Command { return lcCmd(ActionAcknowledge, u, Input{Note: "Received."}) }

func lcTriage(u User, decision, rationale string) Command {
	return lcCmd(ActionTriage, u, Input{Decision: decision, Rationale: rationale})
}

func lcRequest(u User, o *Organisation) Command {
	c := lcCmd(ActionRequestAdvice, u, Input{Question: "Does he need a care and support assessment?"})
	if o != nil {
		c.Input.Organisation = o.Code
	}
	c.Target = o
	return c
}

func lcContribute(u User, care string) Command {
	return lcCmd(ActionContribute, u, Input{Advice: "Refer for an assessment under s.76.", CareAssessment: care})
}

func lcFindings(u User) Command {
	return lcCmd(ActionFindings, u, Input{Risk: "identified", ActionTaken: lcBool(true), RiskOutcome: "reduced", Summary: "Moved to a quieter wing."})
}

func lcPropose(u User) Command {
	return lcCmd(ActionProposeClosure, u, Input{MSPOutcomes: "partially", FeedbackGiven: lcBool(true)})
}

func lcSignOff(u User) Command { return lcCmd(ActionSignOffClosure, u, Input{}) }

func lcSendBack(u User, reason string) Command {
	return lcCmd(ActionSignOffClosure, u, Input{SendBack: true, Reason: reason})
}

func lcPause(u User) Command {
	return lcCmd(ActionPause, u, Input{Reason: "Police investigation under way."})
}

func lcResume(u User) Command {
	return lcCmd(ActionResume, u, Input{Reason: "Police investigation concluded."})
}

func lcReopen(u User) Command {
	return lcCmd(ActionReopen, u, Input{Reason: "New information from the wing."})
}

func lcTransfer(u User, o *Organisation) Command {
	c := lcCmd(ActionTransfer, u, Input{})
	if o != nil {
		c.Input.ToEstablish = o.Code
	}
	c.Target = o
	return c
}

func lcRelease(u User, o *Organisation, date string) Command {
	c := lcCmd(ActionRelease, u, Input{ReleaseDate: date})
	if o != nil {
		c.Input.ReceivingLA = o.Code
	}
	c.Target = o
	return c
}

// lcStep is one action on the way to a state a test starts from.
type lcStep struct {
	at  time.Time
	cmd Command
}

// lcThen is base followed by more, never sharing base's array.
func lcThen(base []lcStep, more ...lcStep) []lcStep { return append(slices.Clip(base), more...) }

// The states the tables start from, as the actions that lead there.
var (
	lcSEnquiry     = []lcStep{{lcAt(1), lcTriage(lcLead, "enquiry", "")}}
	lcSAskedNHS    = lcThen(lcSEnquiry, lcStep{lcAt(2), lcRequest(lcLead, lcOrgNHS())})
	lcSAskedTwo    = lcThen(lcSAskedNHS, lcStep{lcAt(3), lcRequest(lcLead, lcOrgWakefield())})
	lcSAnswered    = lcThen(lcSAskedNHS, lcStep{lcAt(3), lcContribute(lcPartner, "needed")})
	lcSClosure     = lcThen(lcSAnswered, lcStep{lcAt(4), lcFindings(lcLead)})
	lcSProposed    = lcThen(lcSClosure, lcStep{lcAt(5), lcPropose(lcLead)})
	lcSClosed      = lcThen(lcSProposed, lcStep{lcAt(6), lcSignOff(lcManager)})
	lcSPaused      = lcThen(lcSEnquiry, lcStep{lcAt(2), lcPause(lcLead)})
	lcSTransfer    = lcThen(lcSAskedNHS, lcStep{lcAt(3), lcTransfer(lcLead, lcOrgWDI())})
	lcSTransferred = lcThen(lcSTransfer, lcStep{lcAt(4), lcAcknowledge(lcWDILead)})
	lcSRelease     = lcThen(lcSAskedNHS, lcStep{lcAt(3), lcRelease(lcLead, lcOrgWakefield(), "2026-12-01")})
	lcSReleased    = lcThen(lcSRelease, lcStep{lcAt(4), lcAcknowledge(lcReceiver)})
	lcSNFA         = []lcStep{{lcAt(1), lcTriage(lcLead, "no_further_action", "No care and support needs.")}}
	lcSReferred    = []lcStep{{lcAt(1), lcTriage(lcLead, "refer_to_la", "The harm happened before custody, in Leeds.")}}
)

// lcNew is the concern just raised by the Leeds lead.
func lcNew() *Lifecycle { return NewLifecycle(lcRef, lcLEI, lcLeeds, lcLead.ID, lcT0, lcDue) }

// lcBuild replays steps from a new concern; every step must succeed.
func lcBuild(t testing.TB, steps []lcStep) *Lifecycle {
	t.Helper()
	l := lcNew()
	for i, s := range steps {
		ch, err := l.Apply(s.cmd, s.at, lcDue)
		if err != nil {
			t.Fatalf("setting up, step %d (%s by %s of %s): %v", i+1, s.cmd.Action, s.cmd.Actor.Role, s.cmd.Actor.OrgCode, err)
		}
		l = ch.Lifecycle
	}
	return l
}

// lcNext is an hour after the last step.
func lcNext(steps []lcStep) time.Time {
	if len(steps) == 0 {
		return lcAt(1)
	}
	return steps[len(steps)-1].at.Add(time.Hour)
}

// lcDeepCopy copies v through every pointer, slice and map, independently of the lifecycle's
// own clone, so that a shallow clone cannot hide a change to the receiver.
func lcDeepCopy[T any](v T) T {
	var out T
	lcCopyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(v))
	return out
}

func lcCopyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		lcCopyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			lcCopyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			lcCopyValue(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Struct:
		for i := range src.NumField() {
			if !src.Type().Field(i).IsExported() {
				dst.Set(src) // time.Time and the like: values whose insides do not change
				return
			}
		}
		for i := range src.NumField() {
			lcCopyValue(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

// lcPointers is every pointer a state holds, to show whether a new state shares any.
func lcPointers(l *Lifecycle) map[any]bool {
	p := map[any]bool{l: true}
	for _, c := range l.Clocks {
		p[c] = true
	}
	for _, c := range l.Contributions {
		p[c] = true
	}
	if l.Handover != nil {
		p[l.Handover] = true
	}
	return p
}

// lcApply is Apply with the properties every call must keep: the receiver is left exactly as
// it was, whatever the outcome; a new state shares nothing with it; the Change agrees with
// the new state; and the new state is well formed.
func lcApply(t testing.TB, l *Lifecycle, cmd Command, at time.Time) (*Change, error) {
	t.Helper()
	before := lcDeepCopy(l)
	ch, err := l.Apply(cmd, at, lcDue)
	if !reflect.DeepEqual(l, before) {
		t.Errorf("%s by %s changed the state it was applied to (err %v):\nbefore %s\nafter  %s", cmd.Action, cmd.Actor.Role, err, lcShow(before), lcShow(l))
	}
	if err != nil {
		if ch != nil {
			t.Errorf("%s by %s: a Change came back with the error %v", cmd.Action, cmd.Actor.Role, err)
		}
		return nil, err
	}
	if ch == nil || ch.Lifecycle == nil {
		t.Fatalf("%s by %s: no error, but no Change or no new state", cmd.Action, cmd.Actor.Role)
	}
	for _, p := range lcChangeProblems(l, cmd, at, ch) {
		t.Errorf("%s by %s: %s", cmd.Action, cmd.Actor.Role, p)
	}
	for _, p := range lcProblems(ch.Lifecycle) {
		t.Errorf("after %s by %s: %s\n%s", cmd.Action, cmd.Actor.Role, p, lcShow(ch.Lifecycle))
	}
	return ch, nil
}

// lcChangeProblems lists where a Change disagrees with the command, the old state or the new.
func lcChangeProblems(before *Lifecycle, cmd Command, at time.Time, ch *Change) []string {
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	next := ch.Lifecycle
	if ch.Stage != next.Stage || ch.Establishment != next.Establishment || ch.HostLA != next.HostLA {
		bad("the Change says %s/%s/%s; the new state %s/%s/%s", ch.Stage, ch.Establishment, ch.HostLA, next.Stage, next.Establishment, next.HostLA)
	}
	if ch.Action != cmd.Action || !ch.At.Equal(at) || ch.ActorID != cmd.Actor.ID || ch.ActorOrg != cmd.Actor.OrgCode {
		bad("the Change names %s at %s by %d of %s", ch.Action, ch.At, ch.ActorID, ch.ActorOrg)
	}
	if ch.Event == "" {
		bad("the Change has no timeline event")
	}
	old := lcPointers(before)
	for p := range lcPointers(next) {
		if old[p] {
			bad("the new state shares %T %p with the old", p, p)
		}
	}
	for _, c := range slices.Concat(ch.Started, ch.Ended) {
		if old[c] {
			bad("the Change reports clock %s through the old state's pointer", c.ID)
		}
	}
	if ch.Contribution != nil && old[ch.Contribution] {
		bad("Change.Contribution is the old state's")
	}
	if len(next.Clocks) < len(before.Clocks) {
		bad("clocks disappeared: %d before, %d after", len(before.Clocks), len(next.Clocks))
	}
	reported := map[string]*ClockInstance{}
	for _, c := range ch.Started {
		reported[c.ID] = c
		switch {
		case before.Clock(c.ID) != nil:
			bad("started clock %s reuses an existing ID", c.ID)
		case !c.Started.Equal(at) || !c.Due.Equal(lcDue(c.Name, at)) || c.State != ClockRunning:
			bad("started clock %s: started %s, due %s, %s; want started now, due from the scheduler, running", c.ID, c.Started, c.Due, c.State)
		}
	}
	for _, c := range ch.Ended {
		reported[c.ID] = c
	}
	for i, c := range next.Clocks {
		if i < len(before.Clocks) && before.Clocks[i].ID != c.ID {
			bad("clock %d was %s and is now %s: clocks keep their order", i, before.Clocks[i].ID, c.ID)
		}
		r, ok := reported[c.ID]
		if ok && !reflect.DeepEqual(*r, *c) {
			bad("the Change reports clock %s as %+v; the new state holds %+v", c.ID, *r, *c)
		}
		if o := before.Clock(c.ID); !ok && (o == nil || !reflect.DeepEqual(*o, *c)) {
			bad("clock %s changed but the Change does not report it (the read model would miss it)", c.ID)
		}
	}
	for id := range reported {
		if next.Clock(id) == nil {
			bad("the Change reports clock %s, which the new state does not hold", id)
		}
	}
	return ps
}

// lcProblems lists what is wrong with a state on its own.
func lcProblems(l *Lifecycle) []string {
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	if !l.Stage.Valid() {
		bad("stage %q is not one of Stages", l.Stage)
	}
	ids := map[string]bool{}
	counting := map[[2]string]string{}
	for _, c := range l.Clocks {
		if c.ID == "" || ids[c.ID] {
			bad("clock ID %q is empty or used twice", c.ID)
		}
		ids[c.ID] = true
		switch c.State {
		case ClockRunning, ClockBreached:
			if !c.Ended.IsZero() || !c.PausedAt.IsZero() {
				bad("live clock %s has ended %s, paused %s", c.ID, c.Ended, c.PausedAt)
			}
		case ClockPaused:
			if c.PausedAt.IsZero() || !c.Ended.IsZero() {
				bad("paused clock %s: paused at %s, ended %s", c.ID, c.PausedAt, c.Ended)
			}
		case ClockMet, ClockStopped:
			if c.Ended.IsZero() {
				bad("%s clock %s has no end time", c.State, c.ID)
			}
		default:
			bad("clock %s is in state %q", c.ID, c.State)
		}
		if c.Live() || c.State == ClockPaused {
			k := [2]string{c.Name, c.Org}
			if other, dup := counting[k]; dup {
				bad("two %s clocks count for %s at once: %s and %s", c.Name, c.Org, other, c.ID)
			}
			counting[k] = c.ID
		}
		if _, known := lcPolicy[c.Name]; !known {
			bad("clock %s has an unknown name", c.ID)
		}
	}
	for _, r := range l.Contributions {
		c := l.Clock(r.ClockID)
		if c == nil || c.Name != ClockLAContribution || c.Org != r.Org {
			bad("the request to %s names clock %q, which is not its la_contribution clock", r.Org, r.ClockID)
		}
	}
	return ps
}

// lcShow is a state in a line per clock, for failure messages.
func lcShow(l *Lifecycle) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage=%s paused_from=%q est=%s host=%s ack=%v findings=%v proposed=%v handover=%+v\n",
		l.Stage, l.PausedFrom, l.Establishment, l.HostLA, l.Acknowledged, l.Findings, l.ClosureProposed, l.Handover)
	for _, c := range l.Clocks {
		fmt.Fprintf(&b, "  %s org=%s partner=%s assignee=%d %s due=%s paused=%s ended=%s\n", c.ID, c.Org, c.Partner, c.Assignee, c.State,
			c.Due.Format(time.DateTime), c.PausedAt.Format(time.DateTime), c.Ended.Format(time.DateTime))
	}
	for _, r := range l.Contributions {
		fmt.Fprintf(&b, "  asked %s clock=%s answered=%s\n", r.Org, r.ClockID, r.AnsweredAt.Format(time.DateTime))
	}
	return b.String()
}

// Lookups and assertions.

func lcNamed(l *Lifecycle, name string) []*ClockInstance {
	var cs []*ClockInstance
	for _, c := range l.Clocks {
		if c.Name == name {
			cs = append(cs, c)
		}
	}
	return cs
}

// lcLatest is the last clock of that name; the test fails if there is none.
func lcLatest(t *testing.T, l *Lifecycle, name string) *ClockInstance {
	t.Helper()
	cs := lcNamed(l, name)
	if len(cs) == 0 {
		t.Fatalf("no %s clock:\n%s", name, lcShow(l))
	}
	return cs[len(cs)-1]
}

// lcCountingClocks are the clocks still counting, paused or not.
func lcCountingClocks(l *Lifecycle) []*ClockInstance {
	var cs []*ClockInstance
	for _, c := range l.Clocks {
		if c.Live() || c.State == ClockPaused {
			cs = append(cs, c)
		}
	}
	return cs
}

func lcWantClock(t *testing.T, c *ClockInstance, state string, ended time.Time) {
	t.Helper()
	if c.State != state || !c.Ended.Equal(ended) {
		t.Errorf("clock %s is %s, ended %s; want %s, ended %s", c.ID, c.State, c.Ended, state, ended)
	}
}

func lcWantStage(t *testing.T, ch *Change, want Stage) {
	t.Helper()
	if ch.Stage != want {
		t.Errorf("stage = %s; want %s", ch.Stage, want)
	}
}

func lcWantEvent(t *testing.T, ch *Change, want string) {
	t.Helper()
	if ch.Event != want {
		t.Errorf("event = %q; want %q", ch.Event, want)
	}
}

func lcWantNotify(t *testing.T, ch *Change, want ...Notification) {
	t.Helper()
	if !slices.Equal(ch.Notify, want) {
		t.Errorf("notifications = %+v; want %+v", ch.Notify, want)
	}
}

func lcWantJoined(t *testing.T, ch *Change, want map[string]string) {
	t.Helper()
	if !maps.Equal(ch.Joined, want) {
		t.Errorf("joined = %v; want %v", ch.Joined, want)
	}
}

// lcWantAuthorize checks what the access policy answers a person on the new state.
func lcWantAuthorize(t *testing.T, l *Lifecycle, u User, a Action, want string) {
	t.Helper()
	if got := ErrorCode(Authorize(&u, a, l.Involvement())); got != want {
		t.Errorf("Authorize(%s of %s, %s) = %q; want %q", u.Role, u.OrgCode, a, got, want)
	}
}

// lcCase is one rule: from the state the given steps lead to (adjusted by tweak where no
// action can get, such as a clock the ladder has breached), one command at one time, and what
// must follow: an error code (and, for EINVALID, exactly the fields named), or a check.
type lcCase struct {
	rule   string
	given  []lcStep
	tweak  func(l *Lifecycle)
	cmd    Command
	at     time.Time // zero: an hour after the last step
	want   string
	fields []string
	check  func(t *testing.T, before *Lifecycle, ch *Change)
}

func lcRun(t *testing.T, cases []lcCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			l := lcBuild(t, c.given)
			if c.tweak != nil {
				c.tweak(l)
			}
			at := c.at
			if at.IsZero() {
				at = lcNext(c.given)
			}
			ch, err := lcApply(t, l, c.cmd, at)
			if got := ErrorCode(err); got != c.want {
				t.Fatalf("%s by %s of %s: error %q (%v); want %q\n%s", c.cmd.Action, c.cmd.Actor.Role, c.cmd.Actor.OrgCode, got, err, c.want, lcShow(l))
			}
			if c.fields != nil {
				var e *Error
				errors.As(err, &e)
				if got, want := slices.Sorted(maps.Keys(e.Fields)), slices.Sorted(slices.Values(c.fields)); !slices.Equal(got, want) {
					t.Errorf("invalid fields = %v (%v); want %v", got, err, want)
				}
			}
			if err == nil && c.check != nil {
				c.check(t, l, ch)
			}
		})
	}
}

func TestNewLifecycle_startsInNotificationWithAcknowledgementAndTriageClocks(t *testing.T) {
	l := lcNew()
	if l.Stage != StageNotification || l.PausedFrom != "" || !l.Open() {
		t.Errorf("stage %s (paused from %q, open %v); want an open notification", l.Stage, l.PausedFrom, l.Open())
	}
	if l.Reference != lcRef || l.Establishment != lcLEI || l.HostLA != lcLeeds || l.RaisedBy != lcLead.ID {
		t.Errorf("reference, establishment, host LA, raiser = %s, %s, %s, %d", l.Reference, l.Establishment, l.HostLA, l.RaisedBy)
	}
	if l.Acknowledged || l.Findings || l.ClosureProposed || l.Handover != nil || len(l.Contributions) != 0 {
		t.Errorf("a new concern has nothing done yet: %s", lcShow(l))
	}
	want := []ClockInstance{
		{Name: ClockLAAcknowledgement, Org: lcLeeds, Partner: lcLEI, Assignee: 0, Started: lcT0, Due: lcT0.Add(24 * time.Hour), State: ClockRunning},
		{Name: ClockTriageDecision, Org: lcLEI, Partner: lcLeeds, Assignee: lcLead.ID, Started: lcT0, Due: lcT0.Add(48 * time.Hour), State: ClockRunning},
	}
	if len(l.Clocks) != len(want) {
		t.Fatalf("%d clocks; want %d:\n%s", len(l.Clocks), len(want), lcShow(l))
	}
	ids := map[string]bool{}
	for i, c := range l.Clocks {
		got := *c
		got.ID = ""
		if got != want[i] {
			t.Errorf("clock %d = %+v; want %+v", i, got, want[i])
		}
		if c.ID == "" || ids[c.ID] {
			t.Errorf("clock ID %q is empty or repeated", c.ID)
		}
		ids[c.ID] = true
		if l.Clock(c.ID) != c {
			t.Errorf("Clock(%q) does not find it", c.ID)
		}
	}
	if inv := l.Involvement(); inv.Establishment != lcLEI || inv.HostLA != lcLeeds || len(inv.Others) != 0 {
		t.Errorf("Involvement() = %+v; want LEI and its host LA only", inv)
	}
	for _, p := range lcProblems(l) {
		t.Error(p)
	}
}

func TestNewLifecycle_dueTimesComeFromTheScheduler(t *testing.T) {
	var asked []string
	l := NewLifecycle(lcRef, lcLEI, lcLeeds, 1, lcT0, func(clock string, start time.Time) time.Time {
		asked = append(asked, clock)
		if !start.Equal(lcT0) {
			t.Errorf("scheduler asked about %s from %s; want from the raising time", clock, start)
		}
		return start.Add(time.Duration(len(asked)) * time.Minute)
	})
	if !slices.Equal(asked, []string{ClockLAAcknowledgement, ClockTriageDecision}) {
		t.Errorf("scheduler asked for %v", asked)
	}
	for i, c := range l.Clocks {
		if want := lcT0.Add(time.Duration(i+1) * time.Minute); !c.Due.Equal(want) {
			t.Errorf("%s due %s; want the scheduler's %s", c.Name, c.Due, want)
		}
	}
}

func TestApply_acknowledge(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule: "the host LA practitioner's acknowledgement meets la_acknowledgement and nothing else",
			cmd:  lcAcknowledge(lcPractitioner), at: lcAt(2),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantClock(t, lcLatest(t, l, ClockLAAcknowledgement), ClockMet, lcAt(2))
				lcWantClock(t, lcLatest(t, l, ClockTriageDecision), ClockRunning, time.Time{})
				lcWantEvent(t, ch, "acknowledged")
				lcWantStage(t, ch, StageNotification)
				if !l.Acknowledged || len(ch.Ended) != 1 || ch.Ended[0].Name != ClockLAAcknowledgement || len(ch.Started) != 0 {
					t.Errorf("acknowledged %v, ended %d, started %d", l.Acknowledged, len(ch.Ended), len(ch.Started))
				}
			},
		},
		{
			rule:  "the host LA acknowledges once: a second acknowledgement conflicts",
			given: []lcStep{{lcAt(1), lcAcknowledge(lcPractitioner)}},
			cmd:   lcAcknowledge(lcPractitioner), want: ECONFLICT,
		},
		{
			rule:  "the host LA may acknowledge after triage, during the enquiry",
			given: lcSEnquiry, cmd: lcAcknowledge(lcPractitioner),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockLAAcknowledgement), ClockMet, lcAt(2))
				lcWantStage(t, ch, StageEnquiry)
			},
		},
		{
			rule:  "an acknowledgement while paused meets the paused clock and leaves the concern paused",
			given: lcSPaused, cmd: lcAcknowledge(lcPractitioner),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				c := lcLatest(t, ch.Lifecycle, ClockLAAcknowledgement)
				lcWantClock(t, c, ClockMet, lcAt(3))
				lcWantStage(t, ch, StagePaused)
			},
		},
		{rule: "the prison lead may not acknowledge", cmd: lcAcknowledge(lcLead), want: EFORBIDDEN},
		{rule: "the prison manager may not acknowledge", cmd: lcAcknowledge(lcManager), want: EFORBIDDEN},
		{rule: "the host LA manager may not acknowledge: practitioners do", cmd: lcAcknowledge(lcLAManager), want: EFORBIDDEN},
		{rule: "the auditor reads but may not acknowledge", cmd: lcAcknowledge(lcAuditor), want: EFORBIDDEN},
		{rule: "an unrelated LA does not see the concern", cmd: lcAcknowledge(lcStranger), want: ENOTFOUND},
		{rule: "another prison does not see the concern", cmd: lcAcknowledge(lcWDILead), want: ENOTFOUND},
		{
			rule:  "another LA asked to contribute is not the host LA and may not acknowledge the notification",
			given: lcThen(lcSEnquiry, lcStep{lcAt(2), lcRequest(lcLead, lcOrgWakefield())}),
			cmd:   lcAcknowledge(lcReceiver), want: EFORBIDDEN,
		},
		{rule: "a health partner asked to contribute may not acknowledge", given: lcSAskedNHS, cmd: lcAcknowledge(lcPartner), want: EFORBIDDEN},
		{
			rule: "an acknowledgement note is at most 2000 characters",
			cmd:  lcCmd(ActionAcknowledge, lcPractitioner, Input{Note: strings.Repeat("é", 2001)}), want: EINVALID, fields: []string{"note"},
		},
		{
			rule: "a disabled account is unauthorised whatever its role",
			cmd:  lcAcknowledge(User{ID: 3, OrgCode: lcLeeds, OrgKind: KindLocalAuthority, Role: RoleLAPractitioner, Disabled: true}), want: EUNAUTHORIZED,
		},
	})
}

func TestApply_triage(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule: "triage to enquiry meets the triage clock and starts enquiry_completion assigned to the lead",
			cmd:  lcTriage(lcLead, " enquiry ", "  Tests met.  "), at: lcAt(3),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageEnquiry)
				lcWantClock(t, lcLatest(t, l, ClockTriageDecision), ClockMet, lcAt(3))
				lcWantClock(t, lcLatest(t, l, ClockLAAcknowledgement), ClockRunning, time.Time{})
				if len(ch.Started) != 1 {
					t.Fatalf("started %d clocks; want enquiry_completion", len(ch.Started))
				}
				c := ch.Started[0]
				if c.Name != ClockEnquiryCompletion || c.Org != lcLEI || c.Partner != lcLeeds || c.Assignee != lcLead.ID || !c.Due.Equal(lcAt(3).Add(28*24*time.Hour)) {
					t.Errorf("started %+v; want enquiry_completion for LEI, partner Leeds, assigned to the lead, due 28 days on", *c)
				}
				lcWantEvent(t, ch, "triaged")
				if ch.Detail["decision"] != "enquiry" || ch.Detail["rationale"] != "Tests met." {
					t.Errorf("detail = %v; want the trimmed decision and rationale", ch.Detail)
				}
			},
		},
		{
			rule: "no further action needs a rationale",
			cmd:  lcTriage(lcLead, "no_further_action", "   "), want: EINVALID, fields: []string{"rationale"},
		},
		{
			rule: "no further action with a rationale ends the concern and stops every clock",
			cmd:  lcTriage(lcLead, "no_further_action", "The adult has no care and support needs."), at: lcAt(3),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageNoFurtherAction)
				if l.Open() {
					t.Error("a concern with no further action is still open")
				}
				if cs := lcCountingClocks(l); len(cs) != 0 {
					t.Errorf("%d clocks still count:\n%s", len(cs), lcShow(l))
				}
				lcWantClock(t, lcLatest(t, l, ClockTriageDecision), ClockMet, lcAt(3))
				lcWantClock(t, lcLatest(t, l, ClockLAAcknowledgement), ClockStopped, lcAt(3))
				if len(ch.Started) != 0 || len(ch.Notify) != 0 {
					t.Errorf("started %v, notified %v; want nothing", ch.Started, ch.Notify)
				}
			},
		},
		{
			rule: "a referral to the LA needs a rationale",
			cmd:  lcTriage(lcLead, "refer_to_la", ""), want: EINVALID, fields: []string{"rationale"},
		},
		{
			rule: "a referral hands the concern over to the host LA, which must acknowledge it",
			cmd:  lcTriage(lcLead, "refer_to_la", "The harm happened before custody."), at: lcAt(3),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageHandedOver)
				if h := l.Handover; h == nil || *h != (Handover{Kind: HandoverReferral, To: lcLeeds}) {
					t.Errorf("handover = %+v; want a referral to %s", h, lcLeeds)
				}
				cs := lcCountingClocks(l)
				if len(cs) != 1 || cs[0].Name != ClockHandoverAcknowledgement || cs[0].Org != lcLeeds || cs[0].Partner != lcLEI || cs[0].State != ClockRunning {
					t.Errorf("counting clocks:\n%s\nwant only handover_acknowledgement for the host LA", lcShow(l))
				}
				lcWantClock(t, lcLatest(t, l, ClockTriageDecision), ClockMet, lcAt(3))
				lcWantClock(t, lcLatest(t, l, ClockLAAcknowledgement), ClockStopped, lcAt(3))
				lcWantNotify(t, ch, Notification{"referred_to_la", lcLeeds})
			},
		},
		{
			rule:  "the host LA's acknowledgement of a referral meets the handover clock",
			given: lcSReferred, cmd: lcAcknowledge(lcPractitioner),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockHandoverAcknowledgement), ClockMet, lcAt(2))
				lcWantEvent(t, ch, "handover_acknowledged")
				lcWantStage(t, ch, StageHandedOver)
				if cs := lcCountingClocks(ch.Lifecycle); len(cs) != 0 {
					t.Errorf("clocks still count:\n%s", lcShow(ch.Lifecycle))
				}
			},
		},
		{rule: "triage is recorded once", given: lcSEnquiry, cmd: lcTriage(lcLead, "enquiry", ""), want: ECONFLICT},
		{rule: "triage cannot follow no further action", given: lcSNFA, cmd: lcTriage(lcLead, "enquiry", ""), want: ECONFLICT},
		{rule: "the LA practitioner may not triage", cmd: lcTriage(lcPractitioner, "enquiry", ""), want: EFORBIDDEN},
		{rule: "the prison manager may not triage", cmd: lcTriage(lcManager, "enquiry", ""), want: EFORBIDDEN},
		{rule: "another prison's lead does not see the concern", cmd: lcTriage(lcWDILead, "enquiry", ""), want: ENOTFOUND},
		{rule: "a decision outside the three is invalid", cmd: lcTriage(lcLead, "advice_only", "x"), want: EINVALID, fields: []string{"decision"}},
		{rule: "a missing decision is invalid", cmd: lcTriage(lcLead, "", ""), want: EINVALID, fields: []string{"decision"}},
		{
			rule: "a rationale is at most 4000 characters",
			cmd:  lcTriage(lcLead, "enquiry", strings.Repeat("x", 4001)), want: EINVALID, fields: []string{"rationale"},
		},
		{rule: "triage waits while the concern is paused", given: []lcStep{{lcAt(1), lcPause(lcLead)}}, cmd: lcTriage(lcLead, "enquiry", ""), want: ECONFLICT},
	})
}

func TestApply_requestContribution(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "asking the host LA starts its la_contribution clock and moves to la_contribution",
			given: lcSEnquiry, cmd: lcRequest(lcLead, lcOrgLeeds()), at: lcAt(2),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageLAContribution)
				c := lcLatest(t, l, ClockLAContribution)
				if c.Org != lcLeeds || c.Partner != lcLEI || c.State != ClockRunning || !c.Due.Equal(lcAt(2).Add(5*24*time.Hour)) {
					t.Errorf("la_contribution clock %+v; want for Leeds, partner LEI, due 5 days on", *c)
				}
				lcWantJoined(t, ch, map[string]string{lcLeeds: "contributor"})
				lcWantNotify(t, ch, Notification{"contribution_requested", lcLeeds})
				lcWantEvent(t, ch, "contribution_requested")
				r := ch.Contribution
				if r == nil || r.Org != lcLeeds || r.ClockID != c.ID || !r.RequestedAt.Equal(lcAt(2)) || r.Question == "" || !r.AnsweredAt.IsZero() {
					t.Errorf("contribution = %+v; want an open request to Leeds on clock %s", r, c.ID)
				}
			},
		},
		{
			rule:  "asking a health organisation brings it into the concern, where its partner can read it",
			given: lcSEnquiry, cmd: lcRequest(lcLead, lcOrgNHS()), at: lcAt(2),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageLAContribution)
				if c := lcLatest(t, l, ClockLAContribution); c.Org != lcNHS {
					t.Errorf("la_contribution clock for %s; want %s", c.Org, lcNHS)
				}
				lcWantJoined(t, ch, map[string]string{lcNHS: "contributor"})
				lcWantNotify(t, ch, Notification{"contribution_requested", lcNHS})
				if !slices.Contains(l.Involvement().Others, lcNHS) {
					t.Errorf("Involvement().Others = %v; want it to name %s", l.Involvement().Others, lcNHS)
				}
				lcWantAuthorize(t, before, lcPartner, ActionRead, ENOTFOUND)
				lcWantAuthorize(t, l, lcPartner, ActionRead, "")
				lcWantAuthorize(t, l, lcPartner, ActionContribute, "")
			},
		},
		{
			rule:  "the question is trimmed and the code comes from the looked-up organisation",
			given: lcSEnquiry,
			cmd: Command{Action: ActionRequestAdvice, Actor: lcLead, Target: lcOrgNHS(),
				Input: Input{Organisation: " nhs-leeds ", Question: "  Is he known to the mental health team?  "}},
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				if r := ch.Contribution; r.Org != lcNHS || r.Question != "Is he known to the mental health team?" {
					t.Errorf("request to %q asking %q", r.Org, r.Question)
				}
			},
		},
		{
			rule:  "a second organisation may be asked while the first is still open; each has its own clock",
			given: lcSAskedNHS, cmd: lcRequest(lcLead, lcOrgWakefield()),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				cs := lcNamed(ch.Lifecycle, ClockLAContribution)
				if len(cs) != 2 || cs[0].Org != lcNHS || cs[1].Org != lcWakefield || cs[0].ID == cs[1].ID || !cs[0].Live() || !cs[1].Live() {
					t.Errorf("la_contribution clocks:\n%s\nwant one running for NHS and one for Wakefield", lcShow(ch.Lifecycle))
				}
				lcWantStage(t, ch, StageLAContribution)
			},
		},
		{rule: "the same organisation is not asked again while its answer is awaited", given: lcSAskedNHS, cmd: lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT},
		{
			rule:  "an organisation may be asked again once it has answered, on a new clock",
			given: lcSAnswered, cmd: lcRequest(lcLead, lcOrgNHS()),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				cs := lcNamed(ch.Lifecycle, ClockLAContribution)
				if len(cs) != 2 || cs[0].State != ClockMet || cs[1].State != ClockRunning || cs[0].ID == cs[1].ID {
					t.Errorf("la_contribution clocks:\n%s\nwant the first met and a new one running", lcShow(ch.Lifecycle))
				}
				lcWantStage(t, ch, StageLAContribution)
			},
		},
		{rule: "a request must name a known organisation", given: lcSEnquiry, cmd: lcRequest(lcLead, nil), want: EINVALID, fields: []string{"organisation"}},
		{
			rule:  "a request with no organisation code is invalid before any lookup",
			given: lcSEnquiry, cmd: lcCmd(ActionRequestAdvice, lcLead, Input{Question: "?"}), want: EINVALID, fields: []string{"organisation"},
		},
		{rule: "a prison is not asked to contribute", given: lcSEnquiry, cmd: lcRequest(lcLead, lcOrgWDI()), want: EINVALID, fields: []string{"organisation"}},
		{rule: "an approved premises is not asked to contribute", given: lcSEnquiry, cmd: lcRequest(lcLead, lcOrgAP()), want: EINVALID, fields: []string{"organisation"}},
		{
			rule:  "a request needs a question",
			given: lcSEnquiry, cmd: lcCmd(ActionRequestAdvice, lcLead, Input{Organisation: lcNHS}), want: EINVALID, fields: []string{"question"},
		},
		{rule: "advice is asked during the enquiry, not at notification", cmd: lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT},
		{rule: "advice is not asked once findings are recorded", given: lcSClosure, cmd: lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT},
		{rule: "advice is not asked on a closed concern", given: lcSClosed, cmd: lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT},
		{rule: "advice is not asked while paused", given: lcSPaused, cmd: lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT},
		{rule: "the LA practitioner may not ask for advice", given: lcSEnquiry, cmd: lcRequest(lcPractitioner, lcOrgNHS()), want: EFORBIDDEN},
		{rule: "an unrelated LA does not see the concern to ask", given: lcSEnquiry, cmd: lcRequest(lcStranger, lcOrgNHS()), want: ENOTFOUND},
	})
}

func TestApply_contribute(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "the asked partner's contribution meets its clock, carries the answer, and returns to enquiry",
			given: lcSAskedNHS, cmd: lcContribute(lcPartner, " in_place "), at: lcAt(5),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantClock(t, lcLatest(t, l, ClockLAContribution), ClockMet, lcAt(5))
				lcWantStage(t, ch, StageEnquiry)
				lcWantEvent(t, ch, "contributed")
				lcWantNotify(t, ch, Notification{"contribution_received", lcLEI})
				r := ch.Contribution
				if r == nil || r.Org != lcNHS || r.Advice != "Refer for an assessment under s.76." || r.CareAssessment != "in_place" || !r.AnsweredAt.Equal(lcAt(5)) {
					t.Fatalf("contribution = %+v; want NHS's trimmed answer at %s", r, lcAt(5))
				}
				if r.ClockID != lcLatest(t, l, ClockLAContribution).ID || r.Question == "" {
					t.Errorf("contribution %+v does not carry its request", r)
				}
				if len(l.Contributions) != 1 || !l.Contributions[0].AnsweredAt.Equal(lcAt(5)) {
					t.Errorf("the new state does not record the request as answered: %s", lcShow(l))
				}
				for _, c := range before.Contributions {
					if c.Advice != "" || c.CareAssessment != "" || !c.AnsweredAt.IsZero() {
						t.Errorf("the state the contribution was applied to now holds an answer: %+v", *c)
					}
				}
			},
		},
		{
			rule:  "the stage stays la_contribution while another request is open",
			given: lcSAskedTwo, cmd: lcContribute(lcPartner, "not_needed"),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageLAContribution)
				cs := lcNamed(ch.Lifecycle, ClockLAContribution)
				if cs[0].State != ClockMet || cs[1].State != ClockRunning {
					t.Errorf("want NHS's clock met and Wakefield's running:\n%s", lcShow(ch.Lifecycle))
				}
			},
		},
		{
			rule:  "the last open request answered returns the concern to enquiry",
			given: lcThen(lcSAskedTwo, lcStep{lcAt(4), lcContribute(lcPartner, "needed")}), cmd: lcContribute(lcReceiver, "needed"),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageEnquiry) },
		},
		{
			rule:  "a contribution while paused is accepted and the concern stays paused",
			given: lcThen(lcSAskedNHS, lcStep{lcAt(3), lcPause(lcLead)}), cmd: lcContribute(lcPartner, "needed"),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StagePaused)
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockLAContribution), ClockMet, lcAt(4))
			},
		},
		{rule: "an organisation with no open request cannot contribute", given: lcSEnquiry, cmd: lcContribute(lcPractitioner, "needed"), want: ECONFLICT},
		{rule: "an organisation contributes once per request", given: lcSAnswered, cmd: lcContribute(lcPartner, "needed"), want: ECONFLICT},
		{rule: "an unrelated organisation does not see the concern", given: lcSAskedNHS, cmd: lcContribute(lcStranger, "needed"), want: ENOTFOUND},
		{
			rule:  "a care assessment decision outside the three is invalid",
			given: lcSAskedNHS, cmd: lcContribute(lcPartner, "maybe"), want: EINVALID, fields: []string{"care_assessment"},
		},
		{
			rule:  "a contribution needs advice",
			given: lcSAskedNHS, cmd: lcCmd(ActionContribute, lcPartner, Input{CareAssessment: "needed"}), want: EINVALID, fields: []string{"advice"},
		},
		{rule: "the prison lead does not contribute to its own enquiry", given: lcSAskedNHS, cmd: lcContribute(lcLead, "needed"), want: EFORBIDDEN},
		{
			rule:  "the host LA manager does not contribute: practitioners do",
			given: lcThen(lcSEnquiry, lcStep{lcAt(2), lcRequest(lcLead, lcOrgLeeds())}), cmd: lcContribute(lcLAManager, "needed"), want: EFORBIDDEN,
		},
	})
}

func TestApply_findings(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "findings move to closure and meet enquiry_completion",
			given: lcSAnswered, cmd: lcFindings(lcLead), at: lcAt(9),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageClosure)
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockEnquiryCompletion), ClockMet, lcAt(9))
				lcWantEvent(t, ch, "findings_recorded")
				if !ch.Lifecycle.Findings || ch.Detail["risk"] != "identified" || ch.Detail["action_taken"] != true || ch.Detail["risk_outcome"] != "reduced" {
					t.Errorf("findings %v, detail %v", ch.Lifecycle.Findings, ch.Detail)
				}
			},
		},
		{
			rule:  "no risk identified needs no risk outcome",
			given: lcSEnquiry, cmd: lcCmd(ActionFindings, lcLead, Input{Risk: "not_identified", ActionTaken: lcBool(false), Summary: "Nothing found."}),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageClosure) },
		},
		{rule: "findings wait for every open request for advice", given: lcSAskedNHS, cmd: lcFindings(lcLead), want: ECONFLICT},
		{
			rule:  "a risk identified needs its outcome",
			given: lcSEnquiry, cmd: lcCmd(ActionFindings, lcLead, Input{Risk: "identified", ActionTaken: lcBool(true), Summary: "s"}),
			want: EINVALID, fields: []string{"risk_outcome"},
		},
		{
			rule:  "whether action was taken must be said, true or false",
			given: lcSEnquiry, cmd: lcCmd(ActionFindings, lcLead, Input{Risk: "inconclusive", Summary: "s"}),
			want: EINVALID, fields: []string{"action_taken"},
		},
		{
			rule:  "a risk outcome given must be one of the three",
			given: lcSEnquiry, cmd: lcCmd(ActionFindings, lcLead, Input{Risk: "inconclusive", ActionTaken: lcBool(true), RiskOutcome: "gone", Summary: "s"}),
			want: EINVALID, fields: []string{"risk_outcome"},
		},
		{
			rule:  "every bad findings field is reported at once",
			given: lcSEnquiry, cmd: lcCmd(ActionFindings, lcLead, Input{Risk: "bad"}),
			want: EINVALID, fields: []string{"risk", "action_taken", "summary"},
		},
		{rule: "findings are not recorded at notification", cmd: lcFindings(lcLead), want: ECONFLICT},
		{rule: "findings are recorded once", given: lcSClosure, cmd: lcFindings(lcLead), want: ECONFLICT},
		{rule: "findings wait while paused", given: lcSPaused, cmd: lcFindings(lcLead), want: ECONFLICT},
		{rule: "the prison manager does not record findings", given: lcSEnquiry, cmd: lcFindings(lcManager), want: EFORBIDDEN},
		{rule: "a partner does not record findings", given: lcSAnswered, cmd: lcFindings(lcPartner), want: EFORBIDDEN},
	})
}

func TestApply_closure(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "the lead's closure proposal starts closure_signoff for the establishment",
			given: lcSClosure, cmd: lcPropose(lcLead), at: lcAt(7),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageClosure)
				lcWantEvent(t, ch, "closure_proposed")
				c := lcLatest(t, ch.Lifecycle, ClockClosureSignoff)
				if c.Org != lcLEI || c.State != ClockRunning || !c.Due.Equal(lcAt(7).Add(7*24*time.Hour)) || !ch.Lifecycle.ClosureProposed {
					t.Errorf("closure_signoff %+v, proposed %v", *c, ch.Lifecycle.ClosureProposed)
				}
				if ch.Detail["msp_outcomes"] != "partially" || ch.Detail["feedback_given"] != true {
					t.Errorf("detail = %v", ch.Detail)
				}
			},
		},
		{rule: "closure is proposed once until signed off or sent back", given: lcSProposed, cmd: lcPropose(lcLead), want: ECONFLICT},
		{rule: "closure follows the findings", given: lcSEnquiry, cmd: lcPropose(lcLead), want: ECONFLICT},
		{rule: "the MSP outcome must be given", given: lcSClosure, cmd: lcCmd(ActionProposeClosure, lcLead, Input{FeedbackGiven: lcBool(false)}), want: EINVALID, fields: []string{"msp_outcomes"}},
		{rule: "whether feedback was given must be said", given: lcSClosure, cmd: lcCmd(ActionProposeClosure, lcLead, Input{MSPOutcomes: "not_asked"}), want: EINVALID, fields: []string{"feedback_given"}},
		{rule: "the manager does not propose closure", given: lcSClosure, cmd: lcPropose(lcManager), want: EFORBIDDEN},
		{
			rule:  "the manager's sign-off closes the concern and ends every clock",
			given: lcSProposed, cmd: lcSignOff(lcManager), at: lcAt(8),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageClosed)
				lcWantEvent(t, ch, "closed")
				lcWantClock(t, lcLatest(t, l, ClockClosureSignoff), ClockMet, lcAt(8))
				lcWantClock(t, lcLatest(t, l, ClockLAAcknowledgement), ClockStopped, lcAt(8))
				if cs := lcCountingClocks(l); len(cs) != 0 || l.Open() {
					t.Errorf("open %v; clocks still count:\n%s", l.Open(), lcShow(l))
				}
			},
		},
		{rule: "sending closure back needs a reason", given: lcSProposed, cmd: lcSendBack(lcManager, " "), want: EINVALID, fields: []string{"reason"}},
		{
			rule:  "sending closure back clears the proposal and stops closure_signoff; the stage stays closure",
			given: lcSProposed, cmd: lcSendBack(lcManager, "The MSP outcome is not recorded properly."), at: lcAt(8),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageClosure)
				lcWantEvent(t, ch, "closure_sent_back")
				lcWantClock(t, lcLatest(t, l, ClockClosureSignoff), ClockStopped, lcAt(8))
				if l.ClosureProposed || !l.Findings {
					t.Errorf("proposed %v, findings %v; want the proposal cleared and the findings kept", l.ClosureProposed, l.Findings)
				}
				ch2, err := lcApply(t, l, lcPropose(lcLead), lcAt(9))
				if err != nil {
					t.Fatalf("proposing again after a send-back: %v", err)
				}
				cs := lcNamed(ch2.Lifecycle, ClockClosureSignoff)
				if len(cs) != 2 || cs[1].State != ClockRunning || cs[0].ID == cs[1].ID {
					t.Errorf("closure_signoff clocks after proposing again:\n%s", lcShow(ch2.Lifecycle))
				}
			},
		},
		{rule: "the lead does not sign off their own closure", given: lcSProposed, cmd: lcSignOff(lcLead), want: EFORBIDDEN},
		{rule: "another prison's manager does not see the concern", given: lcSProposed, cmd: lcSignOff(lcWDIManager), want: ENOTFOUND},
		{rule: "there is nothing to sign off without a proposal", given: lcSClosure, cmd: lcSignOff(lcManager), want: ECONFLICT},
		{rule: "there is nothing to send back without a proposal", given: lcSClosure, cmd: lcSendBack(lcManager, "no"), want: ECONFLICT},
		{rule: "a closed concern is not signed off again", given: lcSClosed, cmd: lcSignOff(lcManager), want: ECONFLICT},
		{rule: "sign-off waits while paused", given: lcThen(lcSProposed, lcStep{lcAt(6), lcPause(lcLead)}), cmd: lcSignOff(lcManager), want: ECONFLICT},
	})
}

func TestApply_pauseAndResume(t *testing.T) {
	cases := []lcCase{
		{
			rule:  "pausing in enquiry pauses every live clock at that moment",
			given: lcSEnquiry, cmd: lcPause(lcLead), at: lcAt(2),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StagePaused)
				lcWantEvent(t, ch, "paused")
				if l.PausedFrom != StageEnquiry {
					t.Errorf("paused from %q; want enquiry", l.PausedFrom)
				}
				for i, c := range l.Clocks {
					was := before.Clocks[i]
					switch {
					case was.Live() && (c.State != ClockPaused || !c.PausedAt.Equal(lcAt(2)) || !c.Due.Equal(was.Due)):
						t.Errorf("live clock %s is now %s, paused at %s, due %s; want paused at %s, due unchanged", c.ID, c.State, c.PausedAt, c.Due, lcAt(2))
					case !was.Live() && !reflect.DeepEqual(*was, *c):
						t.Errorf("ended clock %s changed: %+v", c.ID, *c)
					}
				}
				if len(ch.Ended) != 2 {
					t.Errorf("reported %d clocks; want the two that were live", len(ch.Ended))
				}
			},
		},
		{
			rule:  "a breached clock pauses too",
			given: lcSEnquiry, tweak: func(l *Lifecycle) { l.Clocks[0].State, l.Clocks[0].Steps = ClockBreached, 2 },
			cmd: lcPause(lcLead), at: lcAt(30),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				if c := ch.Lifecycle.Clocks[0]; c.State != ClockPaused || c.Steps != 2 {
					t.Errorf("breached clock is now %s at step %d; want paused, steps kept", c.State, c.Steps)
				}
			},
		},
		{
			rule:  "resuming after 3 hours returns to the earlier stage with every paused clock due 3 hours later",
			given: lcSPaused, cmd: lcResume(lcLead), at: lcAt(5),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageEnquiry)
				lcWantEvent(t, ch, "resumed")
				if l.PausedFrom != "" {
					t.Errorf("paused from %q after resuming", l.PausedFrom)
				}
				n := 0
				for i, c := range l.Clocks {
					was := before.Clocks[i]
					if was.State != ClockPaused {
						if !reflect.DeepEqual(*was, *c) {
							t.Errorf("clock %s was not paused but changed", c.ID)
						}
						continue
					}
					n++
					if c.State != ClockRunning || !c.PausedAt.IsZero() || !c.Due.Equal(was.Due.Add(3*time.Hour)) {
						t.Errorf("clock %s: %s, paused at %s, due %s; want running, due %s", c.ID, c.State, c.PausedAt, c.Due, was.Due.Add(3*time.Hour))
					}
				}
				if n != 2 || len(ch.Ended) != 2 {
					t.Errorf("%d clocks were paused, %d reported; want 2 and 2", n, len(ch.Ended))
				}
			},
		},
		{
			rule:  "a clock met while paused stays met on resume",
			given: lcThen(lcSPaused, lcStep{lcAt(3), lcAcknowledge(lcPractitioner)}), cmd: lcResume(lcLead), at: lcAt(5),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockLAAcknowledgement), ClockMet, lcAt(3))
				if c := lcLatest(t, ch.Lifecycle, ClockEnquiryCompletion); c.State != ClockRunning || !c.Due.Equal(lcAt(1).Add(28*24*time.Hour+3*time.Hour)) {
					t.Errorf("enquiry_completion %s due %s", c.State, c.Due)
				}
			},
		},
		{
			rule:  "a concern paused at notification resumes at notification",
			given: []lcStep{{lcAt(1), lcPause(lcLead)}}, cmd: lcResume(lcLead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageNotification) },
		},
		{
			rule:  "a concern paused awaiting advice resumes awaiting advice",
			given: lcThen(lcSAskedNHS, lcStep{lcAt(3), lcPause(lcLead)}), cmd: lcResume(lcLead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageLAContribution) },
		},
		{
			rule:  "a concern paused in closure resumes in closure with its proposal",
			given: lcThen(lcSProposed, lcStep{lcAt(6), lcPause(lcLead)}), cmd: lcResume(lcLead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageClosure)
				if !ch.Lifecycle.ClosureProposed || lcLatest(t, ch.Lifecycle, ClockClosureSignoff).State != ClockRunning {
					t.Errorf("after resuming:\n%s", lcShow(ch.Lifecycle))
				}
			},
		},
		{rule: "a paused concern is not paused again", given: lcSPaused, cmd: lcPause(lcLead), want: ECONFLICT},
		{rule: "a concern that is not paused cannot resume", given: lcSEnquiry, cmd: lcResume(lcLead), want: ECONFLICT},
		{rule: "pausing needs a reason", given: lcSEnquiry, cmd: lcCmd(ActionPause, lcLead, Input{}), want: EINVALID, fields: []string{"reason"}},
		{rule: "resuming needs a reason", given: lcSPaused, cmd: lcCmd(ActionResume, lcLead, Input{Reason: "\t"}), want: EINVALID, fields: []string{"reason"}},
		{rule: "a closed concern is not paused", given: lcSClosed, cmd: lcPause(lcLead), want: ECONFLICT},
		{rule: "a concern with no further action is not paused", given: lcSNFA, cmd: lcPause(lcLead), want: ECONFLICT},
		{rule: "a concern referred to the LA is not paused", given: lcSReferred, cmd: lcPause(lcLead), want: ECONFLICT},
		{rule: "the manager does not pause", given: lcSEnquiry, cmd: lcPause(lcManager), want: EFORBIDDEN},
		{rule: "the LA does not resume", given: lcSPaused, cmd: lcResume(lcPractitioner), want: EFORBIDDEN},
	}
	// While paused, only resume, acknowledge and contribute are possible.
	for _, cmd := range []Command{
		lcRequest(lcLead, lcOrgNHS()), lcFindings(lcLead), lcPropose(lcLead), lcTransfer(lcLead, lcOrgWDI()),
		lcRelease(lcLead, lcOrgWakefield(), "2026-12-01"), lcReopen(lcLead), lcPause(lcLead),
	} {
		cases = append(cases, lcCase{rule: fmt.Sprintf("%s waits while the concern is paused", cmd.Action), given: lcSPaused, cmd: cmd, want: ECONFLICT})
	}
	lcRun(t, cases)
}

func TestApply_transfer(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "a transfer asks the receiving prison to acknowledge and tells it and its host LA",
			given: lcSAskedNHS, cmd: lcTransfer(lcLead, lcOrgWDI()), at: lcAt(3),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageLAContribution)
				lcWantEvent(t, ch, "transfer_started")
				c := lcLatest(t, l, ClockHandoverAcknowledgement)
				if c.Org != lcWDI || c.Partner != lcLEI || c.State != ClockRunning || !c.Due.Equal(lcAt(3).Add(25*time.Hour)) {
					t.Errorf("handover_acknowledgement %+v; want for WDI, due 25h on", *c)
				}
				if h := l.Handover; h == nil || *h != (Handover{Kind: HandoverTransfer, To: lcWDI, HostLA: lcWakefield}) {
					t.Errorf("handover = %+v", h)
				}
				lcWantJoined(t, ch, map[string]string{lcWDI: "receiving"})
				lcWantNotify(t, ch, Notification{"handover", lcWDI}, Notification{"handover", lcWakefield})
				if l.Establishment != lcLEI || l.HostLA != lcLeeds {
					t.Errorf("the concern moved before the receiving prison acknowledged: %s/%s", l.Establishment, l.HostLA)
				}
				if len(lcCountingClocks(l)) != len(lcCountingClocks(before))+1 {
					t.Errorf("a transfer stops nothing:\n%s", lcShow(l))
				}
				lcWantAuthorize(t, l, lcWDILead, ActionRead, "")
				lcWantAuthorize(t, l, lcLead, ActionFindings, "")
			},
		},
		{rule: "a second transfer waits for the first to be acknowledged", given: lcSTransfer, cmd: lcTransfer(lcLead, lcOrgAP()), want: ECONFLICT},
		{rule: "a release waits for a pending transfer", given: lcSTransfer, cmd: lcRelease(lcLead, lcOrgWakefield(), "2026-12-01"), want: ECONFLICT},
		{rule: "a concern is not transferred to its own establishment", given: lcSEnquiry, cmd: lcTransfer(lcLead, lcOrgLEI()), want: EINVALID, fields: []string{"to_establishment"}},
		{rule: "a concern is transferred to an establishment, not a local authority", given: lcSEnquiry, cmd: lcTransfer(lcLead, lcOrgWakefield()), want: EINVALID, fields: []string{"to_establishment"}},
		{rule: "a transfer names a known establishment", given: lcSEnquiry, cmd: lcTransfer(lcLead, nil), want: EINVALID, fields: []string{"to_establishment"}},
		{
			rule:  "an approved premises can receive a transfer",
			given: lcSEnquiry, cmd: lcTransfer(lcLead, lcOrgAP()),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				if c := lcLatest(t, ch.Lifecycle, ClockHandoverAcknowledgement); c.Org != lcAPCode {
					t.Errorf("handover clock for %s", c.Org)
				}
			},
		},
		{rule: "a closed concern is not transferred", given: lcSClosed, cmd: lcTransfer(lcLead, lcOrgWDI()), want: ECONFLICT},
		{rule: "the manager does not transfer", given: lcSEnquiry, cmd: lcTransfer(lcManager, lcOrgWDI()), want: EFORBIDDEN},
		{
			rule:  "the receiving prison's acknowledgement moves the concern, its host LA and its live clocks",
			given: lcSTransfer, cmd: lcAcknowledge(lcWDILead), at: lcAt(4),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				if ch.Establishment != lcWDI || ch.HostLA != lcWakefield || l.Establishment != lcWDI || l.HostLA != lcWakefield {
					t.Errorf("change %s/%s, state %s/%s; want WDI/%s", ch.Establishment, ch.HostLA, l.Establishment, l.HostLA, lcWakefield)
				}
				lcWantJoined(t, ch, map[string]string{lcLEI: "previous", lcLeeds: "previous", lcWDI: "establishment", lcWakefield: "host_la"})
				lcWantEvent(t, ch, "handover_acknowledged")
				lcWantStage(t, ch, StageLAContribution)
				if l.Handover != nil {
					t.Errorf("handover %+v is still pending", l.Handover)
				}
				lcWantClock(t, lcLatest(t, l, ClockHandoverAcknowledgement), ClockMet, lcAt(4))
				ack, enq, con := lcLatest(t, l, ClockLAAcknowledgement), lcLatest(t, l, ClockEnquiryCompletion), lcLatest(t, l, ClockLAContribution)
				if ack.Org != lcWakefield || ack.Partner != lcWDI || !ack.Live() {
					t.Errorf("la_acknowledgement %+v; want the new host LA to owe it", *ack)
				}
				if enq.Org != lcWDI || enq.Partner != lcWakefield || !enq.Live() {
					t.Errorf("enquiry_completion %+v; want WDI to owe it", *enq)
				}
				if con.Org != lcNHS || con.Partner != lcLEI {
					t.Errorf("la_contribution %+v; want it left with the organisation asked", *con)
				}
				for i, c := range l.Clocks {
					if was := before.Clocks[i]; !c.Due.Equal(was.Due) || c.ID != was.ID {
						t.Errorf("clock %s: due %s, was %s", c.ID, c.Due, was.Due)
					}
				}
			},
		},
		{
			rule:  "a transfer acknowledged at notification hands the acknowledgement and triage to the new owners",
			given: []lcStep{{lcAt(1), lcTransfer(lcLead, lcOrgWDI())}}, cmd: lcAcknowledge(lcWDILead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				if c := lcLatest(t, l, ClockLAAcknowledgement); c.Org != lcWakefield {
					t.Errorf("la_acknowledgement owed by %s", c.Org)
				}
				if c := lcLatest(t, l, ClockTriageDecision); c.Org != lcWDI {
					t.Errorf("triage_decision owed by %s", c.Org)
				}
				for _, step := range []Command{lcTriage(lcWDILead, "enquiry", ""), lcAcknowledge(lcReceiver)} {
					if _, err := lcApply(t, l, step, lcAt(3)); err != nil {
						t.Errorf("%s by %s of %s after the transfer: %v", step.Action, step.Actor.Role, step.Actor.OrgCode, err)
					}
				}
			},
		},
		{rule: "the receiving prison's host LA is not involved until the transfer completes", given: lcSTransfer, cmd: lcAcknowledge(lcReceiver), want: ENOTFOUND},
		{rule: "only the receiving prison acknowledges a transfer", given: lcSTransfer, cmd: lcAcknowledge(lcLead), want: EFORBIDDEN},
		{rule: "after a transfer the previous prison's lead no longer acts on the concern", given: lcSTransferred, cmd: lcFindings(lcLead), want: EFORBIDDEN},
		{rule: "after a transfer the previous prison's lead cannot pause", given: lcSTransferred, cmd: lcPause(lcLead), want: EFORBIDDEN},
		{rule: "after a transfer the previous host LA no longer acts on the concern", given: lcSTransferred, cmd: lcAcknowledge(lcPractitioner), want: EFORBIDDEN},
		{rule: "after a transfer the acknowledgement is not repeated", given: lcSTransferred, cmd: lcAcknowledge(lcWDILead), want: EFORBIDDEN},
		{
			rule:  "after a transfer the new prison's lead runs the enquiry",
			given: lcThen(lcSTransferred, lcStep{lcAt(5), lcContribute(lcPartner, "needed")}), cmd: lcFindings(lcWDILead),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageClosure)
				// The previous prison keeps sight of the history it took part in, and nothing more.
				lcWantAuthorize(t, before, lcLead, ActionTriage, EFORBIDDEN)
				lcWantAuthorize(t, before, lcLead, ActionRead, "")
				lcWantAuthorize(t, before, lcWDILead, ActionTriage, "")
				lcWantAuthorize(t, before, lcWDIManager, ActionSignOffClosure, "")
				lcWantAuthorize(t, before, lcManager, ActionSignOffClosure, EFORBIDDEN)
			},
		},
		{
			rule:  "after a transfer the organisation asked still answers",
			given: lcSTransferred, cmd: lcContribute(lcPartner, "needed"),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageEnquiry)
				lcWantNotify(t, ch, Notification{"contribution_received", lcWDI})
			},
		},
	})
}

func TestApply_release(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "a release stops every other clock and asks the receiving LA to acknowledge",
			given: lcSAskedNHS, cmd: lcRelease(lcLead, lcOrgWakefield(), " 2026-12-01 "), at: lcAt(3),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantEvent(t, ch, "release_notified")
				for i, was := range before.Clocks {
					c := l.Clocks[i]
					switch {
					case was.Live() && (c.State != ClockStopped || !c.Ended.Equal(lcAt(3))):
						t.Errorf("clock %s is %s; want stopped at the release", c.ID, c.State)
					case !was.Live() && !reflect.DeepEqual(*was, *c):
						t.Errorf("ended clock %s changed", c.ID)
					}
				}
				cs := lcCountingClocks(l)
				if len(cs) != 1 || cs[0].Name != ClockHandoverAcknowledgement || cs[0].Org != lcWakefield || cs[0].Partner != lcLEI {
					t.Errorf("counting clocks:\n%s\nwant only handover_acknowledgement for %s", lcShow(l), lcWakefield)
				}
				if h := l.Handover; h == nil || *h != (Handover{Kind: HandoverRelease, To: lcWakefield}) {
					t.Errorf("handover = %+v", h)
				}
				lcWantJoined(t, ch, map[string]string{lcWakefield: "receiving"})
				lcWantNotify(t, ch, Notification{"handover", lcWakefield})
				if ch.Detail["release_date"] != "2026-12-01" || ch.Detail["receiving_la"] != lcWakefield {
					t.Errorf("detail = %v", ch.Detail)
				}
				lcWantAuthorize(t, l, lcReceiver, ActionRead, "")
			},
		},
		{
			rule:  "a release date must be a date",
			given: lcSEnquiry, cmd: lcRelease(lcLead, lcOrgWakefield(), "01/12/2026"), want: EINVALID, fields: []string{"release_date"},
		},
		{
			rule:  "a release date must exist",
			given: lcSEnquiry, cmd: lcRelease(lcLead, lcOrgWakefield(), "2026-02-30"), want: EINVALID, fields: []string{"release_date"},
		},
		{rule: "a release needs its date", given: lcSEnquiry, cmd: lcRelease(lcLead, lcOrgWakefield(), ""), want: EINVALID, fields: []string{"release_date"}},
		{rule: "a release goes to a local authority, not a prison", given: lcSEnquiry, cmd: lcRelease(lcLead, lcOrgWDI(), "2026-12-01"), want: EINVALID, fields: []string{"receiving_la"}},
		{rule: "a release goes to a local authority, not a health body", given: lcSEnquiry, cmd: lcRelease(lcLead, lcOrgNHS(), "2026-12-01"), want: EINVALID, fields: []string{"receiving_la"}},
		{rule: "a release names a known local authority", given: lcSEnquiry, cmd: lcRelease(lcLead, nil, "2026-12-01"), want: EINVALID, fields: []string{"receiving_la"}},
		{rule: "a second release waits for the first", given: lcSRelease, cmd: lcRelease(lcLead, lcOrgBradford(), "2026-12-01"), want: ECONFLICT},
		{rule: "a closed concern is not released", given: lcSClosed, cmd: lcRelease(lcLead, lcOrgWakefield(), "2026-12-01"), want: ECONFLICT},
		{
			rule:  "the receiving LA's acknowledgement hands the concern over",
			given: lcSRelease, cmd: lcAcknowledge(lcReceiver), at: lcAt(4),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageHandedOver)
				lcWantEvent(t, ch, "handover_acknowledged")
				lcWantClock(t, lcLatest(t, ch.Lifecycle, ClockHandoverAcknowledgement), ClockMet, lcAt(4))
				if ch.Lifecycle.Open() || ch.Establishment != lcLEI {
					t.Errorf("open %v, establishment %s", ch.Lifecycle.Open(), ch.Establishment)
				}
			},
		},
		{rule: "the receiving LA's manager does not acknowledge: practitioners do", given: lcSRelease, cmd: lcAcknowledge(lcRecManager), want: EFORBIDDEN},
		{rule: "an LA not released to does not see the concern", given: lcSRelease, cmd: lcAcknowledge(lcStranger), want: ENOTFOUND},
		{rule: "the manager does not release", given: lcSEnquiry, cmd: lcRelease(lcManager, lcOrgWakefield(), "2026-12-01"), want: EFORBIDDEN},
	})
}

func TestApply_reopen(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "reopening a closed concern restarts the enquiry on a new enquiry_completion clock",
			given: lcSClosed, cmd: lcReopen(lcLead), at: lcAt(30),
			check: func(t *testing.T, before *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				lcWantStage(t, ch, StageEnquiry)
				lcWantEvent(t, ch, "reopened")
				if len(ch.Started) != 1 {
					t.Fatalf("started %d clocks", len(ch.Started))
				}
				c := ch.Started[0]
				if c.Name != ClockEnquiryCompletion || c.Org != lcLEI || c.Assignee != lcLead.ID || before.Clock(c.ID) != nil {
					t.Errorf("started %+v; want a new enquiry_completion for LEI", *c)
				}
				if old := lcNamed(before, ClockEnquiryCompletion); len(old) != 1 || old[0].ID == c.ID {
					t.Errorf("the old enquiry_completion clock: %v", old)
				}
				if l.Findings || l.ClosureProposed || !l.Open() {
					t.Errorf("findings %v, proposed %v, open %v; want a fresh enquiry", l.Findings, l.ClosureProposed, l.Open())
				}
				for _, step := range []Command{lcFindings(lcLead), lcPropose(lcLead), lcSignOff(lcManager)} {
					next, err := lcApply(t, l, step, lcAt(31))
					if err != nil {
						t.Fatalf("%s after reopening: %v", step.Action, err)
					}
					l = next.Lifecycle
				}
				lcWantClock(t, l.Clock(c.ID), ClockMet, lcAt(31))
			},
		},
		{
			rule:  "a concern with no further action can be reopened",
			given: lcSNFA, cmd: lcReopen(lcLead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageEnquiry) },
		},
		{rule: "an open concern is not reopened", given: lcSEnquiry, cmd: lcReopen(lcLead), want: ECONFLICT},
		{rule: "a concern at notification is not reopened", cmd: lcReopen(lcLead), want: ECONFLICT},
		{rule: "a concern handed over on release is not reopened", given: lcSReleased, cmd: lcReopen(lcLead), want: ECONFLICT},
		{rule: "a concern referred to the LA is not reopened", given: lcSReferred, cmd: lcReopen(lcLead), want: ECONFLICT},
		{rule: "reopening needs a reason", given: lcSClosed, cmd: lcCmd(ActionReopen, lcLead, Input{}), want: EINVALID, fields: []string{"reason"}},
		{rule: "the manager does not reopen", given: lcSClosed, cmd: lcReopen(lcManager), want: EFORBIDDEN},
		{rule: "the auditor does not reopen", given: lcSClosed, cmd: lcReopen(lcAuditor), want: EFORBIDDEN},
	})
}

func TestApply_actionsThatAreNotLifecycleStepsAreRefused(t *testing.T) {
	lcRun(t, []lcCase{
		{rule: "reading is not a change", given: lcSEnquiry, cmd: lcCmd(ActionRead, lcLead, Input{}), want: EINVALID},
		{rule: "an unknown action is forbidden by the access policy", given: lcSEnquiry, cmd: lcCmd(Action("delete"), lcLead, Input{}), want: EFORBIDDEN},
		{rule: "administration is not a change to a concern", given: lcSEnquiry, cmd: lcCmd(ActionManageUsers, lcLead, Input{}), want: EFORBIDDEN},
		{rule: "an unrelated person reading learns nothing", given: lcSEnquiry, cmd: lcCmd(ActionRead, lcStranger, Input{}), want: ENOTFOUND},
	})
}

func TestApply_auditorNeverChangesAConcern(t *testing.T) {
	states := map[string][]lcStep{"notification": nil, "enquiry": lcSEnquiry, "asked": lcSAskedNHS, "proposed": lcSProposed, "paused": lcSPaused,
		"transfer": lcSTransfer, "release": lcSRelease, "closed": lcSClosed}
	cmds := []Command{lcAcknowledge(lcAuditor), lcTriage(lcAuditor, "enquiry", ""), lcRequest(lcAuditor, lcOrgNHS()), lcContribute(lcAuditor, "needed"),
		lcFindings(lcAuditor), lcPropose(lcAuditor), lcSignOff(lcAuditor), lcPause(lcAuditor), lcResume(lcAuditor), lcReopen(lcAuditor),
		lcTransfer(lcAuditor, lcOrgWDI()), lcRelease(lcAuditor, lcOrgWakefield(), "2026-12-01")}
	for _, name := range slices.Sorted(maps.Keys(states)) {
		for _, cmd := range cmds {
			t.Run(name+"/"+string(cmd.Action), func(t *testing.T) {
				steps := states[name]
				_, err := lcApply(t, lcBuild(t, steps), cmd, lcNext(steps))
				if ErrorCode(err) != EFORBIDDEN {
					t.Errorf("auditor's %s: %v; want forbidden", cmd.Action, err)
				}
			})
		}
	}
}

func TestLifecycle_aConcernFromRaisingToReopening(t *testing.T) {
	l := lcNew()
	journey := []struct {
		cmd   Command
		stage Stage
		event string
	}{
		{lcAcknowledge(lcPractitioner), StageNotification, "acknowledged"},
		{lcTriage(lcLead, "enquiry", "Tests met."), StageEnquiry, "triaged"},
		{lcRequest(lcLead, lcOrgLeeds()), StageLAContribution, "contribution_requested"},
		{lcRequest(lcLead, lcOrgNHS()), StageLAContribution, "contribution_requested"},
		{lcPause(lcLead), StagePaused, "paused"},
		{lcResume(lcLead), StageLAContribution, "resumed"},
		{lcContribute(lcPractitioner, "needed"), StageLAContribution, "contributed"},
		{lcContribute(lcPartner, "not_needed"), StageEnquiry, "contributed"},
		{lcFindings(lcLead), StageClosure, "findings_recorded"},
		{lcPropose(lcLead), StageClosure, "closure_proposed"},
		{lcSendBack(lcManager, "Record the MSP outcome."), StageClosure, "closure_sent_back"},
		{lcPropose(lcLead), StageClosure, "closure_proposed"},
		{lcSignOff(lcManager), StageClosed, "closed"},
		{lcReopen(lcLead), StageEnquiry, "reopened"},
	}
	for i, step := range journey {
		ch, err := lcApply(t, l, step.cmd, lcAt(i+1))
		if err != nil {
			t.Fatalf("step %d, %s by %s: %v", i+1, step.cmd.Action, step.cmd.Actor.Role, err)
		}
		if ch.Stage != step.stage || ch.Event != step.event {
			t.Errorf("step %d, %s: stage %s, event %q; want %s, %q", i+1, step.cmd.Action, ch.Stage, ch.Event, step.stage, step.event)
		}
		l = ch.Lifecycle
	}
	names := map[string]int{}
	for _, c := range l.Clocks {
		names[c.Name]++
	}
	want := map[string]int{ClockLAAcknowledgement: 1, ClockTriageDecision: 1, ClockLAContribution: 2, ClockEnquiryCompletion: 2, ClockClosureSignoff: 2}
	if !maps.Equal(names, want) {
		t.Errorf("clocks over the journey: %v; want %v", names, want)
	}
	if cs := lcCountingClocks(l); len(cs) != 1 || cs[0].Name != ClockEnquiryCompletion {
		t.Errorf("after reopening, counting clocks:\n%s", lcShow(l))
	}
}

func TestInput_validateTrimsTextAndUpperCasesOrganisationCodes(t *testing.T) {
	cases := []struct {
		action Action
		in     Input
		want   Input
	}{
		{ActionRequestAdvice, Input{Organisation: "  nhs-leeds\n", Question: "  why?  "}, Input{Organisation: "NHS-LEEDS", Question: "why?"}},
		{ActionTransfer, Input{ToEstablish: " wdi "}, Input{ToEstablish: "WDI"}},
		{ActionRelease, Input{ReceivingLA: "e08000036 ", ReleaseDate: " 2026-12-01\t"}, Input{ReceivingLA: "E08000036", ReleaseDate: "2026-12-01"}},
		{ActionTriage, Input{Decision: " refer_to_la ", Rationale: "\tbefore custody \n"}, Input{Decision: "refer_to_la", Rationale: "before custody"}},
		{ActionContribute, Input{Advice: " assess ", CareAssessment: " needed "}, Input{Advice: "assess", CareAssessment: "needed"}},
		{ActionAcknowledge, Input{Note: "  seen  "}, Input{Note: "seen"}},
		{ActionPause, Input{Reason: " police "}, Input{Reason: "police"}},
	}
	for _, c := range cases {
		t.Run(string(c.action), func(t *testing.T) {
			in := c.in
			if err := in.Validate(c.action); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !reflect.DeepEqual(in, c.want) {
				t.Errorf("after Validate: %+v; want %+v", in, c.want)
			}
		})
	}
}

func TestInput_validateChecksWhatEachActionNeeds(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		rule   string
		action Action
		in     Input
		fields []string // nil: valid
	}{
		{"an acknowledgement needs nothing", ActionAcknowledge, Input{}, nil},
		{"a triage to enquiry needs no rationale", ActionTriage, Input{Decision: "enquiry"}, nil},
		{"whitespace is not a rationale", ActionTriage, Input{Decision: "no_further_action", Rationale: " \n "}, []string{"rationale"}},
		{"a request needs an organisation and a question", ActionRequestAdvice, Input{}, []string{"organisation", "question"}},
		{"an organisation code is at most 32 characters", ActionRequestAdvice, Input{Organisation: strings.Repeat("A", 33), Question: "q"}, []string{"organisation"}},
		{"a question of 4000 characters is accepted", ActionRequestAdvice, Input{Organisation: "X1", Question: long(4000)}, nil},
		{"a question of 4001 characters is not", ActionRequestAdvice, Input{Organisation: "X1", Question: long(4001)}, []string{"question"}},
		{"advice of 8000 characters is accepted", ActionContribute, Input{Advice: long(8000), CareAssessment: "needed"}, nil},
		{"advice of 8001 characters is not", ActionContribute, Input{Advice: long(8001), CareAssessment: "needed"}, []string{"advice"}},
		{"a contribution needs both fields", ActionContribute, Input{}, []string{"advice", "care_assessment"}},
		{"findings need a summary", ActionFindings, Input{Risk: "not_identified", ActionTaken: lcBool(false)}, []string{"summary"}},
		{"a closure proposal needs both answers", ActionProposeClosure, Input{}, []string{"feedback_given", "msp_outcomes"}},
		{"an MSP outcome outside the four is invalid", ActionProposeClosure, Input{MSPOutcomes: "mostly", FeedbackGiven: lcBool(true)}, []string{"msp_outcomes"}},
		{"a sign-off needs no reason", ActionSignOffClosure, Input{}, nil},
		{"a send-back needs a reason", ActionSignOffClosure, Input{SendBack: true}, []string{"reason"}},
		{"a resume needs a reason", ActionResume, Input{}, []string{"reason"}},
		{"a reopen needs a reason", ActionReopen, Input{}, []string{"reason"}},
		{"a transfer needs an establishment", ActionTransfer, Input{}, []string{"to_establishment"}},
		{"a release needs an LA and a date", ActionRelease, Input{}, []string{"receiving_la", "release_date"}},
		{"a release date has no time", ActionRelease, Input{ReceivingLA: lcWakefield, ReleaseDate: "2026-12-01T00:00:00Z"}, []string{"release_date"}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			in := c.in
			err := in.Validate(c.action)
			if c.fields == nil {
				if err != nil {
					t.Errorf("Validate: %v; want valid", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("Validate: %v; want invalid %v", err, c.fields)
			}
			if got := slices.Sorted(maps.Keys(e.Fields)); !slices.Equal(got, slices.Sorted(slices.Values(c.fields))) {
				t.Errorf("invalid fields %v; want %v", got, c.fields)
			}
		})
	}
}

func TestInput_targetNamesTheOrganisationAndItsField(t *testing.T) {
	in := Input{Organisation: " nhs-leeds ", ToEstablish: " wdi", ReceivingLA: "e08000036 "}
	cases := []struct {
		action      Action
		code, field string
	}{
		{ActionRequestAdvice, "NHS-LEEDS", "organisation"},
		{ActionTransfer, "WDI", "to_establishment"},
		{ActionRelease, "E08000036", "receiving_la"},
	}
	for _, a := range []Action{ActionAcknowledge, ActionTriage, ActionContribute, ActionFindings, ActionProposeClosure,
		ActionSignOffClosure, ActionPause, ActionResume, ActionReopen, ActionRead, ActionRaise} {
		cases = append(cases, struct {
			action      Action
			code, field string
		}{a, "", ""})
	}
	for _, c := range cases {
		before := in
		code, field := in.Target(c.action)
		if code != c.code || field != c.field {
			t.Errorf("Target(%s) = %q, %q; want %q, %q", c.action, code, field, c.code, c.field)
		}
		if in != before {
			t.Errorf("Target(%s) changed the input", c.action)
		}
	}
}

// The fuzz target drives random sequences of actions, by random people, through the lifecycle.
// Each step is three bytes: the action; who acts (below 0x80 the person the state calls for,
// such as the current establishment's lead or an organisation asked for advice, so that long
// valid journeys are common; from 0x80 one of lcFuzzUsers, who may have no part in the
// concern); and a variant: bit 7 makes the input invalid, bits 4-6 are the hours that pass
// before the step, bits 0-3 choose among inputs (which organisation, which decision).

var lcFuzzActions = []Action{
	ActionAcknowledge, ActionTriage, ActionRequestAdvice, ActionContribute, ActionFindings, ActionProposeClosure,
	ActionSignOffClosure, ActionPause, ActionResume, ActionReopen, ActionTransfer, ActionRelease, ActionRead,
}

var lcFuzzUsers = []User{
	lcLead, lcManager, lcPractitioner, lcLAManager, lcPartner, lcStranger, lcWDILead, lcWDIManager, lcAuditor, lcReceiver, lcRecManager,
	{ID: 12, Name: "Disabled lead", OrgCode: lcLEI, OrgKind: KindPrison, Role: RolePrisonLead, Disabled: true},
	{ID: 13, Name: "Bradford partner", OrgCode: lcBradford, OrgKind: KindLocalAuthority, Role: RolePartner},
	{ID: 14, Name: "AP lead", OrgCode: lcAPCode, OrgKind: KindApprovedPremises, Role: RolePrisonLead},
}

// lcFuzzOrgs are the organisations a fuzzed command can name, by code.
var lcFuzzOrgs = map[string]func() *Organisation{
	lcLEI: lcOrgLEI, lcWDI: lcOrgWDI, lcAPCode: lcOrgAP, lcLeeds: lcOrgLeeds, lcWakefield: lcOrgWakefield, lcBradford: lcOrgBradford, lcNHS: lcOrgNHS,
}

// lcFuzzPerson is someone at org: role "" picks the role that acts for an organisation of its kind.
func lcFuzzPerson(org string, role Role) User {
	kind := KindHealth
	if o, ok := lcFuzzOrgs[org]; ok {
		kind = o().Kind
	}
	if role == "" {
		switch {
		case kind.IsEstablishment():
			role = RolePrisonLead
		case kind == KindLocalAuthority:
			role = RoleLAPractitioner
		default:
			role = RolePartner
		}
	}
	return User{ID: 100 + int64(len(org)), Name: string(role) + " at " + org, OrgCode: org, OrgKind: kind, Role: role}
}

// lcFuzzCalledFor is the person the state calls on for an action.
func lcFuzzCalledFor(l *Lifecycle, a Action, v byte) User {
	switch a {
	case ActionAcknowledge:
		if l.Handover != nil && v&1 == 0 {
			return lcFuzzPerson(l.Handover.To, "")
		}
		return lcFuzzPerson(l.HostLA, RoleLAPractitioner)
	case ActionSignOffClosure:
		return lcFuzzPerson(l.Establishment, RolePrisonManager)
	case ActionContribute:
		var asked []string
		for _, c := range l.Contributions {
			if c.AnsweredAt.IsZero() {
				asked = append(asked, c.Org)
			}
		}
		if len(asked) == 0 {
			return lcFuzzPerson(l.HostLA, "")
		}
		return lcFuzzPerson(asked[int(v&0x0f)%len(asked)], "")
	}
	return lcFuzzPerson(l.Establishment, RolePrisonLead)
}

// lcFuzzCommand builds the command a step's variant byte describes.
func lcFuzzCommand(a Action, u User, v byte) Command {
	invalid, pick := v&0x80 != 0, int(v&0x0f)
	org := func(codes ...string) *Organisation {
		if c := codes[pick%len(codes)]; c != "" {
			return lcFuzzOrgs[c]()
		}
		return nil
	}
	reason := "Because."
	if invalid {
		reason = " "
	}
	switch a {
	case ActionAcknowledge:
		if invalid {
			return lcCmd(a, u, Input{Note: lcLong2001})
		}
		return lcAcknowledge(u)
	case ActionTriage:
		c := lcTriage(u, []string{"enquiry", "no_further_action", "refer_to_la"}[pick%3], "Rationale.")
		if invalid {
			c.Input.Decision, c.Input.Rationale = []string{"advice", "no_further_action"}[pick%2], ""
		}
		return c
	case ActionRequestAdvice:
		if invalid {
			c := lcRequest(u, org(lcWDI, "", lcAPCode, lcNHS))
			if c.Target != nil && c.Target.Code == lcNHS {
				c.Input.Question = ""
			}
			return c
		}
		return lcRequest(u, org(lcNHS, lcLeeds, lcWakefield, lcBradford))
	case ActionContribute:
		if invalid {
			return lcContribute(u, "unknown")
		}
		return lcContribute(u, []string{"needed", "not_needed", "in_place"}[pick%3])
	case ActionFindings:
		in := Input{Risk: []string{"identified", "inconclusive", "not_identified"}[pick%3], ActionTaken: lcBool(pick&4 != 0), Summary: "Summary."}
		if in.Risk == "identified" || pick&8 != 0 {
			in.RiskOutcome = []string{"removed", "reduced", "remains"}[pick%3]
		}
		if invalid {
			in.ActionTaken, in.RiskOutcome = nil, "gone"
		}
		return lcCmd(a, u, in)
	case ActionProposeClosure:
		c := lcCmd(a, u, Input{MSPOutcomes: []string{"fully", "partially", "not_achieved", "not_asked"}[pick%4], FeedbackGiven: lcBool(pick&4 != 0)})
		if invalid {
			c.Input.FeedbackGiven = nil
		}
		return c
	case ActionSignOffClosure:
		return lcCmd(a, u, Input{SendBack: pick&1 != 0 || invalid, Reason: reason})
	case ActionTransfer:
		if invalid {
			return lcTransfer(u, org(lcLEI, lcWakefield, ""))
		}
		return lcTransfer(u, org(lcWDI, lcAPCode, lcLEI))
	case ActionRelease:
		if invalid {
			return lcRelease(u, org(lcWDI, lcWakefield), []string{"2026-12-01", "soon"}[pick%2])
		}
		return lcRelease(u, org(lcWakefield, lcBradford, lcLeeds), "2026-12-01")
	}
	return lcCmd(a, u, Input{Reason: reason})
}

var lcLong2001 = strings.Repeat("n", 2001)

const lcCalledFor = 0 // the "who" byte of a step by the person the state calls on

// lcAs is the "who" byte of a step by u.
func lcAs(u User) byte {
	i := slices.IndexFunc(lcFuzzUsers, func(x User) bool { return x.ID == u.ID })
	if i < 0 {
		panic(fmt.Sprintf("user %d is not among lcFuzzUsers", u.ID))
	}
	return byte(0x80 + i)
}

// lcFuzzStep encodes one step for the seed corpus.
func lcFuzzStep(a Action, who, v byte) []byte {
	return []byte{byte(slices.Index(lcFuzzActions, a)), who, v}
}

func FuzzApply(f *testing.F) {
	seeds := [][][]byte{
		{ // the whole journey, with a pause, an answer given while paused and a send-back
			lcFuzzStep(ActionAcknowledge, lcCalledFor, 0x11), lcFuzzStep(ActionTriage, lcCalledFor, 0), lcFuzzStep(ActionRequestAdvice, lcCalledFor, 0),
			lcFuzzStep(ActionRequestAdvice, lcCalledFor, 1), lcFuzzStep(ActionPause, lcCalledFor, 0x10), lcFuzzStep(ActionContribute, lcCalledFor, 0),
			lcFuzzStep(ActionResume, lcCalledFor, 0x30), lcFuzzStep(ActionContribute, lcCalledFor, 0), lcFuzzStep(ActionFindings, lcCalledFor, 0x04),
			lcFuzzStep(ActionProposeClosure, lcCalledFor, 0), lcFuzzStep(ActionPause, lcCalledFor, 0), lcFuzzStep(ActionResume, lcCalledFor, 0x20),
			lcFuzzStep(ActionSignOffClosure, lcCalledFor, 1), lcFuzzStep(ActionProposeClosure, lcCalledFor, 0),
			lcFuzzStep(ActionSignOffClosure, lcCalledFor, 0), lcFuzzStep(ActionReopen, lcCalledFor, 0x70),
		},
		{ // a transfer, then the new prison runs the enquiry and the old one is refused
			lcFuzzStep(ActionTriage, lcCalledFor, 0), lcFuzzStep(ActionRequestAdvice, lcCalledFor, 0), lcFuzzStep(ActionTransfer, lcCalledFor, 0),
			lcFuzzStep(ActionAcknowledge, lcCalledFor, 0x20), lcFuzzStep(ActionTriage, lcAs(lcLead), 0), lcFuzzStep(ActionContribute, lcCalledFor, 0),
			lcFuzzStep(ActionAcknowledge, lcCalledFor, 1), lcFuzzStep(ActionFindings, lcCalledFor, 0), lcFuzzStep(ActionProposeClosure, lcCalledFor, 0),
			lcFuzzStep(ActionSignOffClosure, lcCalledFor, 0), lcFuzzStep(ActionTransfer, lcCalledFor, 1),
		},
		{ // a release, and what is refused after it
			lcFuzzStep(ActionTriage, lcCalledFor, 0), lcFuzzStep(ActionRequestAdvice, lcCalledFor, 2), lcFuzzStep(ActionRelease, lcCalledFor, 0xf0),
			lcFuzzStep(ActionRelease, lcCalledFor, 0), lcFuzzStep(ActionPause, lcCalledFor, 0), lcFuzzStep(ActionAcknowledge, lcCalledFor, 0),
			lcFuzzStep(ActionReopen, lcCalledFor, 0), lcFuzzStep(ActionContribute, lcCalledFor, 0),
		},
		{ // triage's other ends: no further action, then a referral after reopening
			lcFuzzStep(ActionTriage, lcCalledFor, 0x81), lcFuzzStep(ActionTriage, lcCalledFor, 1), lcFuzzStep(ActionReopen, lcCalledFor, 0),
			lcFuzzStep(ActionTransfer, lcCalledFor, 1), lcFuzzStep(ActionAcknowledge, lcCalledFor, 0),
		},
		{lcFuzzStep(ActionTransfer, lcCalledFor, 0), lcFuzzStep(ActionTriage, lcCalledFor, 2), lcFuzzStep(ActionAcknowledge, lcCalledFor, 0), lcFuzzStep(ActionReopen, lcCalledFor, 0)},
		{ // strangers, the disabled and the auditor at every turn
			lcFuzzStep(ActionAcknowledge, lcAs(lcStranger), 0), lcFuzzStep(ActionRead, lcAs(lcAuditor), 0), lcFuzzStep(ActionTriage, lcAs(lcWDILead), 0),
			lcFuzzStep(ActionContribute, lcAs(lcFuzzUsers[12]), 0), lcFuzzStep(ActionPause, lcAs(lcFuzzUsers[11]), 0), lcFuzzStep(ActionReopen, lcAs(lcAuditor), 0),
		},
	}
	for _, s := range seeds {
		f.Add(slices.Concat(s...))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		l := lcNew()
		now := lcT0
		var trail []string
		for step := 0; len(data) >= 3 && step < 64; step++ {
			a, who, v := lcFuzzActions[int(data[0])%len(lcFuzzActions)], data[1], data[2]
			data = data[3:]
			u := lcFuzzCalledFor(l, a, v)
			if who >= 0x80 {
				u = lcFuzzUsers[int(who-0x80)%len(lcFuzzUsers)]
			}
			now = now.Add(time.Duration(v>>4&7)*time.Hour + time.Minute)
			cmd := lcFuzzCommand(a, u, v)
			involved := l.Involvement().involves(u.OrgCode)
			before := lcDeepCopy(l)

			var ch *Change
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Apply panicked: %v\nafter %s\nstate %s", r, strings.Join(trail, " → "), lcShow(before))
					}
				}()
				ch, err = l.Apply(cmd, now, lcDue)
			}()
			trail = append(trail, fmt.Sprintf("%s by %s@%s (v=%#x): %s", a, u.Role, u.OrgCode, v, cmp.Or(ErrorCode(err), "ok")))
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("%s\nafter %s\nstate before the last step:\n%s", fmt.Sprintf(format, args...), strings.Join(trail, " → "), lcShow(before))
			}
			if !reflect.DeepEqual(l, before) {
				fail("Apply changed its receiver:\n%s", lcShow(l))
			}
			previous := slices.Contains(before.Previous, u.OrgCode)
			if !involved && !previous && u.Role != RoleAuditor && !u.Disabled && ErrorCode(err) != ENOTFOUND {
				fail("%s of %s, not involved, got %v; want not found", u.Role, u.OrgCode, err)
			}
			if !involved && previous && !u.Disabled && err == nil {
				fail("%s of %s, involved only before a transfer, acted: %s", u.Role, u.OrgCode, a)
			}
			if u.Disabled && ErrorCode(err) != EUNAUTHORIZED {
				fail("a disabled account got %v; want unauthorized", err)
			}
			if err != nil {
				if ch != nil {
					fail("a Change came back with the error %v", err)
				}
				if ErrorCode(err) == EINTERNAL {
					fail("Apply returned a non-application error %v", err)
				}
				continue
			}
			if u.Role == RoleAuditor {
				fail("the auditor changed the concern")
			}
			if again, err2 := l.Apply(cmd, now, lcDue); err2 != nil || !reflect.DeepEqual(again, ch) {
				fail("Apply is not deterministic: %v", err2)
			}
			for _, p := range lcChangeProblems(l, cmd, now, ch) {
				fail("%s", p)
			}
			for _, p := range lcProblems(ch.Lifecycle) {
				fail("%s\n%s", p, lcShow(ch.Lifecycle))
			}
			l = ch.Lifecycle
		}
	})
}

// Rules found by testing: a pause, a transfer and a release interact with the other actions.
func TestApply_pausesAndHandovers(t *testing.T) {
	lcRun(t, []lcCase{
		{
			rule:  "the last answer given while paused lets the concern resume to enquiry",
			given: lcThen(lcSAskedNHS, lcStep{lcAt(3), lcPause(lcLead)}, lcStep{lcAt(4), lcContribute(lcPartner, "needed")}),
			cmd:   lcResume(lcLead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) { lcWantStage(t, ch, StageEnquiry) },
		},
		{
			rule:  "a transfer acknowledged while paused moves the paused clocks to the new owners too",
			given: lcThen(lcSTransfer, lcStep{lcAt(4), lcPause(lcLead)}),
			cmd:   lcAcknowledge(lcWDILead),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				l := ch.Lifecycle
				if c := lcLatest(t, l, ClockLAAcknowledgement); c.Org != lcWakefield {
					t.Errorf("paused la_acknowledgement still owed by %s; want %s", c.Org, lcWakefield)
				}
				if c := lcLatest(t, l, ClockEnquiryCompletion); c.Org != lcWDI {
					t.Errorf("paused enquiry_completion still owed by %s; want %s", c.Org, lcWDI)
				}
			},
		},
		{
			rule:  "a referral to the LA waits for a pending transfer instead of silently dropping it",
			given: []lcStep{{lcAt(1), lcTransfer(lcLead, lcOrgWDI())}},
			cmd:   lcTriage(lcLead, "refer_to_la", "Before custody."), want: ECONFLICT,
		},
		{
			rule:  "a referral to the LA waits for a pending release instead of silently dropping it",
			given: []lcStep{{lcAt(1), lcRelease(lcLead, lcOrgWakefield(), "2026-12-01")}},
			cmd:   lcTriage(lcLead, "refer_to_la", "Before custody."), want: ECONFLICT,
		},
		{
			rule:  "once a release is notified the prison can no longer ask for advice",
			given: lcThen(lcSEnquiry, lcStep{lcAt(2), lcRelease(lcLead, lcOrgWakefield(), "2026-12-01")}),
			cmd:   lcRequest(lcLead, lcOrgNHS()), want: ECONFLICT,
		},
		{
			rule:  "a concern whose release awaits acknowledgement cannot reach findings or closure",
			given: lcThen(lcSEnquiry, lcStep{lcAt(2), lcRelease(lcLead, lcOrgWakefield(), "2026-12-01")}),
			cmd:   lcFindings(lcLead), want: ECONFLICT,
		},
		{
			rule:  "a concern whose release awaits acknowledgement cannot be paused",
			given: lcSRelease,
			cmd:   lcPause(lcLead), want: ECONFLICT,
		},
		{
			rule:  "a release acknowledged leaves no clock counting on the handed-over concern",
			given: lcThen(lcSEnquiry, lcStep{lcAt(2), lcRelease(lcLead, lcOrgWakefield(), "2026-12-01")}),
			cmd:   lcAcknowledge(lcReceiver),
			check: func(t *testing.T, _ *Lifecycle, ch *Change) {
				lcWantStage(t, ch, StageHandedOver)
				if cs := lcCountingClocks(ch.Lifecycle); len(cs) != 0 {
					t.Errorf("clocks still count on a handed-over concern:\n%s", lcShow(ch.Lifecycle))
				}
			},
		},
	})
}
