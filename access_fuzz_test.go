package safeguard

import (
	"slices"
	"testing"
)

// fuzzOrgs are the organisations a fuzzed user or concern is drawn from: a few of each kind,
// so that the fuzzer meets every relation often.
var fuzzOrgs = []testOrg{
	{ownerPrison, KindPrison, ""}, {otherPrison, KindPrison, ""}, {askedPrison, KindPrison, ""},
	{otherAPCode, KindApprovedPremises, ""}, {hostLA, KindLocalAuthority, ""}, {askedLA, KindLocalAuthority, ""},
	{otherLA, KindLocalAuthority, ""}, {askedHealth, KindHealth, ""}, {otherHealth, KindHealth, ""},
}

// FuzzAuthorize draws a user, an action and a concern's involvement from the fuzzer's bytes and
// checks the properties the policy must never break, whatever the table says:
//   - never cross-tenant: whoever is allowed to act on a concern belongs to an organisation it
//     involves, or is the national auditor reading, or an earlier owner reading its history, or
//     an admin breaking glass (a read that is flagged for review);
//   - the auditor never changes anything;
//   - an allegation against staff is never shown to the establishment's other staff;
//   - a disabled account can do nothing.
func FuzzAuthorize(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(1), uint8(0), uint8(4), uint16(0), uint8(0), false, int64(1), int64(1))
	f.Add(uint8(2), uint8(4), uint8(3), uint8(0), uint8(4), uint16(0b101), uint8(0), false, int64(1), int64(2))
	f.Add(uint8(5), uint8(6), uint8(1), uint8(1), uint8(4), uint16(0), uint8(0), true, int64(3), int64(3))
	f.Add(uint8(0), uint8(0), uint8(8), uint8(0), uint8(4), uint16(0), uint8(1), false, int64(9), int64(8))
	f.Fuzz(func(t *testing.T, role, org, action, est, host uint8, others uint16, flags uint8, disabled bool, uid, raisedBy int64) {
		uo := fuzzOrgs[int(org)%len(fuzzOrgs)]
		u := &User{ID: uid, Role: Roles[int(role)%len(Roles)], OrgCode: uo.code, OrgKind: uo.kind, Disabled: disabled}
		a := allActions[int(action)%len(allActions)]
		c := &Involvement{
			Establishment: fuzzOrgs[int(est)%len(fuzzOrgs)].code,
			HostLA:        fuzzOrgs[int(host)%len(fuzzOrgs)].code,
			RaisedBy:      raisedBy,
		}
		// The low bits pick organisations asked to contribute; the high bits earlier owners.
		for i, o := range fuzzOrgs {
			if others&(1<<i) != 0 {
				c.Others = append(c.Others, o.code)
			}
			if others&(1<<(i+len(fuzzOrgs)-2)) != 0 && i < 7 {
				c.Previous = append(c.Previous, o.code)
			}
		}
		if flags&1 != 0 {
			c.StaffAllegationAt = c.Establishment
		}
		if flags&2 != 0 {
			c = nil // an action not about one concern
		}

		err := Authorize(u, a, c)
		if err != nil {
			if code := ErrorCode(err); code != ENOTFOUND && code != EFORBIDDEN && code != EUNAUTHORIZED {
				t.Fatalf("Authorize answered %v; want allowed, not found, forbidden or unauthorized", err)
			}
			return
		}
		if disabled {
			t.Fatalf("a disabled %s may %s", u.Role, a)
		}
		if u.Role == RoleAuditor && slices.Contains(writes, a) {
			t.Fatalf("the auditor may %s", a)
		}
		if c == nil || a == ActionRaise {
			return
		}
		involved := u.OrgCode == c.Establishment || u.OrgCode == c.HostLA || slices.Contains(c.Others, u.OrgCode)
		previousReading := slices.Contains(c.Previous, u.OrgCode) && a == ActionRead
		// An admin breaking glass is the one read across organisations, and it is flagged.
		breakingGlass := a == ActionBreakGlassRead && u.Role == RoleAdmin
		if !involved && !previousReading && !breakingGlass && u.Role != RoleAuditor {
			t.Fatalf("cross-tenant: %s of %s may %s a concern of %+v", u.Role, u.OrgCode, a, c)
		}
		if c.StaffAllegationAt != "" && u.OrgCode == c.StaffAllegationAt && u.Role != RolePrisonManager && u.Role != RoleAuditor && u.ID != c.RaisedBy {
			t.Fatalf("an allegation against staff of %s is shown to %s %d (raised by %d)", c.StaffAllegationAt, u.Role, u.ID, c.RaisedBy)
		}
	})
}
