package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/policy"
)

// The admin pages: users (list, add, disable and enable, end sessions), their API tokens
// (list, create, revoke), organisations (list, add) and the deadline policy in force. Every
// request asks the policy (ActionManageUsers, ActionManageOrgs) before it reads or changes
// anything; every change goes through the SQL functions the CLI calls and is audited as the
// CLI audits it, with the admin as the actor. Every view is audited too, allowed or refused
// ("admin_view_users", "admin_view_user" with its target, "admin_view_organisations",
// "admin_view_policy"): a list of accounts is not a concern, but who looked at whose account
// is worth knowing. Changes are POST forms only, so
// CrossOriginProtection covers them, and no URL carries an email or a name: users are named
// by their number.

const adminPageSize = 50

// setupLinkTTL is how long the one-time link to set a new user's password works.
const setupLinkTTL = 24 * time.Hour

func (s *Server) adminRoutes(r *mux.Router, page func(http.HandlerFunc) http.Handler) {
	r.Handle("/admin/users", page(s.adminUsers)).Methods(http.MethodGet)
	r.Handle("/admin/users", page(s.adminAddUser)).Methods(http.MethodPost)
	r.Handle("/admin/users/{id:[0-9]+}", page(s.adminUser)).Methods(http.MethodGet)
	r.Handle("/admin/users/{id:[0-9]+}/{change:disable|enable|sign-out}", page(s.adminChangeUser)).Methods(http.MethodPost)
	r.Handle("/admin/users/{id:[0-9]+}/tokens", page(s.adminCreateToken)).Methods(http.MethodPost)
	r.Handle("/admin/tokens/{id:[0-9]+}/revoke", page(s.adminRevokeToken)).Methods(http.MethodPost)
	r.Handle("/admin/organisations", page(s.adminOrganisations)).Methods(http.MethodGet)
	r.Handle("/admin/organisations", page(s.adminAddOrganisation)).Methods(http.MethodPost)
	r.Handle("/admin/policy", page(s.adminPolicy)).Methods(http.MethodGet)
}

// mayAdmin asks the policy, auditing a refusal, and answers it as a page.
func (s *Server) mayAdmin(w http.ResponseWriter, r *http.Request, a safeguard.Action, action, target string) (*safeguard.User, bool) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, a, nil); err != nil {
		s.auditAccount(r, &u.ID, action, safeguard.ErrorCode(err), target, "")
		s.webError(w, r, err)
		return nil, false
	}
	return u, true
}

type adminUsersPage struct {
	Users      []safeguard.User
	Page       int
	Prev, Next string
	Roles      []option
	Added      *safeguard.User // the user just added, with their one-time link
	SetupLink  string
}

func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}

func roleOptions() []option {
	var out []option
	for _, role := range safeguard.Roles {
		out = append(out, option{Value: string(role), Label: words(string(role))})
	}
	return out
}

// adminUsers is GET /admin/users: every account, 50 a page, and the form to add one.
func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, "admin_view_users", "")
	if !ok {
		return
	}
	s.auditAccount(r, &actor.ID, "admin_view_users", "ok", "", "page "+strconv.Itoa(pageNumber(r)))
	s.showUsers(w, r, http.StatusOK, pageNumber(r), &Form{Values: url.Values{}}, nil, "")
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, status, page int, form *Form, added *safeguard.User, link string) {
	users, more, err := s.DB.ListUsers(r.Context(), adminPageSize, (page-1)*adminPageSize)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	v := adminUsersPage{Users: users, Page: page, Roles: roleOptions(), Added: added, SetupLink: link}
	if page > 1 {
		v.Prev = "/admin/users?page=" + strconv.Itoa(page-1)
	}
	if more {
		v.Next = "/admin/users?page=" + strconv.Itoa(page+1)
	}
	s.render(w, r, status, "admin-users", View{Title: "Users", Nav: "admin", Data: v, Form: form})
}

// userFieldMessages say what to do about each field of the add-user form.
var userFieldMessages = map[string]string{
	"email": "Enter the person's work email address, such as name@example.gov.uk",
	"name":  "Enter the person's name, at most 200 characters",
	"org":   "Enter the code of a known organisation, such as LEI or E08000035",
}

// adminAddUser is POST /admin/users: the user as `safeguard user add` creates them (CreateUser
// validates each field), then a one-time link, shown once, for them to set a password.
func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, "user_create", "")
	if !ok {
		return
	}
	values, err := readForm(w, r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	u := safeguard.User{Email: values.Get("email"), Name: values.Get("name"), OrgCode: strings.ToUpper(strings.TrimSpace(values.Get("org"))), Role: safeguard.Role(values.Get("role"))}
	err = s.DB.CreateUser(r.Context(), &u)
	if err != nil {
		fields, ok := adminFieldErrors(err, userFieldMessages)
		if !ok {
			s.webError(w, r, orUnavailable(err))
			return
		}
		if safeguard.ErrorCode(err) == safeguard.ECONFLICT {
			fields = map[string]string{"email": "A user with this email address already exists"}
		}
		s.showUsers(w, r, http.StatusUnprocessableEntity, 1, &Form{Values: values, Errors: fields, Order: []string{"email", "name", "org", "role"}}, nil, "")
		return
	}
	target := fmt.Sprintf("user:%d", u.ID)
	s.auditAccount(r, &actor.ID, "user_create", "ok", target, "role "+string(u.Role)+" at "+u.OrgCode)
	secret, err := s.DB.CreateSetupToken(r.Context(), u.ID, setupLinkTTL)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &actor.ID, "setup_link_create", "ok", target, "")
	base := strings.TrimSuffix(s.BaseURL, "/")
	s.showUsers(w, r, http.StatusOK, 1, &Form{Values: url.Values{}}, &u, base+"/sign-in/setup?"+url.Values{"token": {secret}}.Encode())
}

// adminFieldLabels name the admin forms' fields as their labels do.
var adminFieldLabels = map[string]string{
	"host_la": "Host local authority", "inbox": "Safeguarding inbox", "org": "Organisation code", "email": "Work email address",
}

// adminFieldErrors turns a domain validation error into one sentence per field; ok is false
// for errors that are not about the form.
func adminFieldErrors(err error, messages map[string]string) (map[string]string, bool) {
	var e *safeguard.Error
	if !errors.As(err, &e) || (e.Code != safeguard.EINVALID && e.Code != safeguard.ECONFLICT) {
		return nil, false
	}
	out := map[string]string{}
	for field, msg := range e.Fields {
		if m := messages[field]; m != "" {
			out[field] = m
			continue
		}
		// The field by its label on the form, read as one sentence with the domain's rule:
		// "Host local authority is required for a prison …", not "Host la: is required …".
		label := adminFieldLabels[field]
		if label == "" {
			label = humanField(field)
		}
		if strings.HasPrefix(msg, "is ") || strings.HasPrefix(msg, "must ") {
			out[field] = sentence(label + " " + msg)
		} else {
			out[field] = sentence(label + ": " + msg)
		}
	}
	if len(out) == 0 {
		out[""] = sentence(e.Message)
	}
	return out, true
}

type adminUserPage struct {
	Subject  *safeguard.User
	Tokens   []safeguard.Token
	Sessions int
	Self     bool
	Notice   string
	Secret   string // a token just created, shown this once
	Now      time.Time
}

var adminNotices = map[string]string{
	"disable": "The account is disabled and its sessions have ended.", "enable": "The account is enabled again.",
	"sign-out": "Every session of this account has ended.", "revoke": "The token is revoked.",
}

// adminUser is GET /admin/users/{id}: the account, its API tokens (never their secrets, which
// are not kept) and its live sessions, with the changes an admin can make.
func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	target := fmt.Sprintf("user:%d", id)
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, "admin_view_user", target)
	if !ok {
		return
	}
	_, err := s.DB.FindUser(r.Context(), id)
	s.auditAccount(r, &actor.ID, "admin_view_user", outcomeOf(err), target, "")
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.showUser(w, r, http.StatusOK, &Form{Values: url.Values{}}, adminNotices[r.URL.Query().Get("done")], "")
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, status int, form *Form, notice, secret string) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	subject, err := s.DB.FindUser(r.Context(), id)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	tokens, err := s.DB.ListTokens(r.Context(), id)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	sessions, err := s.DB.ListSessions(r.Context(), id)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	v := adminUserPage{Subject: subject, Tokens: tokens, Self: subject.ID == userFrom(r.Context()).ID, Notice: notice, Secret: secret, Now: s.Now()}
	for _, sess := range sessions {
		if sess.RevokedAt == nil {
			v.Sessions++
		}
	}
	s.render(w, r, status, "admin-user", View{Title: "User " + strconv.FormatInt(subject.ID, 10), Nav: "admin", Data: v, Form: form})
}

// adminChangeUser is POST /admin/users/{id}/disable, /enable and /sign-out, as `safeguard user
// disable`, `enable` and `sign-out` do them. An admin cannot disable their own account: there
// would be no one left signed in to undo it.
func (s *Server) adminChangeUser(w http.ResponseWriter, r *http.Request) {
	change := mux.Vars(r)["change"]
	action := map[string]string{"disable": "user_disable", "enable": "user_enable", "sign-out": "sessions_revoke"}[change]
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	target := fmt.Sprintf("user:%d", id)
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, action, target)
	if !ok {
		return
	}
	if _, err := s.DB.FindUser(r.Context(), id); err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	detail := ""
	switch change {
	case "disable", "enable":
		if change == "disable" && id == actor.ID {
			s.showUser(w, r, http.StatusConflict, &Form{Values: url.Values{}, Errors: map[string]string{"": "You cannot disable your own account. Ask another administrator."}}, "", "")
			return
		}
		if err := s.DB.SetUserDisabled(r.Context(), id, change == "disable"); err != nil {
			s.webError(w, r, orUnavailable(err))
			return
		}
	case "sign-out":
		n, err := s.DB.RevokeUserSessions(r.Context(), id)
		if err != nil {
			s.webError(w, r, orUnavailable(err))
			return
		}
		detail = fmt.Sprintf("%d sessions ended", n)
	}
	s.auditAccount(r, &actor.ID, action, "ok", target, detail)
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=%s", id, change), http.StatusSeeOther)
}

// adminCreateToken is POST /admin/users/{id}/tokens, as `safeguard token create`: the secret is
// shown on the page this once; only its hash is kept.
func (s *Server) adminCreateToken(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	target := fmt.Sprintf("user:%d", id)
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, "token_create", target)
	if !ok {
		return
	}
	if _, err := s.DB.FindUser(r.Context(), id); err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	values, err := readForm(w, r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	name := strings.TrimSpace(values.Get("name"))
	errs := map[string]string{}
	switch {
	case name == "":
		errs["name"] = "Enter a name to recognise the token by, such as the script that will use it"
	case len([]rune(name)) > 100:
		errs["name"] = "Token name must be at most 100 characters"
	}
	var expires *time.Time
	if d := strings.TrimSpace(values.Get("expires_in_days")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 3650 {
			errs["expires_in_days"] = "Days until it expires must be a whole number from 1 to 3650, or left empty for never"
		} else {
			t := s.Now().Add(time.Duration(n) * 24 * time.Hour)
			expires = &t
		}
	}
	if len(errs) > 0 {
		s.showUser(w, r, http.StatusUnprocessableEntity, &Form{Values: values, Errors: errs, Order: []string{"name", "expires_in_days"}}, "", "")
		return
	}
	secret, err := s.DB.CreateToken(r.Context(), id, name, expires)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &actor.ID, "token_create", "ok", target, "token named "+name)
	s.showUser(w, r, http.StatusOK, &Form{Values: url.Values{}}, "", secret)
}

// adminRevokeToken is POST /admin/tokens/{id}/revoke, as `safeguard token revoke`.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	target := fmt.Sprintf("token:%d", id)
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageUsers, "token_revoke", target)
	if !ok {
		return
	}
	t, err := s.DB.RevokeToken(r.Context(), id)
	if err != nil && safeguard.ErrorCode(err) != safeguard.ECONFLICT {
		s.webError(w, r, orUnavailable(err))
		return
	}
	if err == nil {
		s.auditAccount(r, &actor.ID, "token_revoke", "ok", target, "token named "+t.Name)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=revoke", t.UserID), http.StatusSeeOther)
}

type adminOrgsPage struct {
	Orgs       []safeguard.Organisation
	Page       int
	Prev, Next string
	Kinds      []option
	Added      string
}

// orgFieldMessages say what to do about each field of the add-organisation form.
var orgFieldMessages = map[string]string{
	"kind": "Select the kind of organisation",
	"name": "Enter the organisation's name, at most 200 characters",
}

// adminOrganisations is GET /admin/organisations: every organisation, 50 a page, and the form
// to add one.
func (s *Server) adminOrganisations(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageOrgs, "admin_view_organisations", "")
	if !ok {
		return
	}
	s.auditAccount(r, &actor.ID, "admin_view_organisations", "ok", "", "page "+strconv.Itoa(pageNumber(r)))
	s.showOrganisations(w, r, http.StatusOK, pageNumber(r), &Form{Values: url.Values{}}, "")
}

func (s *Server) showOrganisations(w http.ResponseWriter, r *http.Request, status, page int, form *Form, added string) {
	orgs, more, err := s.DB.ListOrganisations(r.Context(), adminPageSize, (page-1)*adminPageSize)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	v := adminOrgsPage{Orgs: orgs, Page: page, Added: added}
	for _, k := range safeguard.OrgKinds {
		v.Kinds = append(v.Kinds, option{Value: string(k), Label: words(string(k))})
	}
	if page > 1 {
		v.Prev = "/admin/organisations?page=" + strconv.Itoa(page-1)
	}
	if more {
		v.Next = "/admin/organisations?page=" + strconv.Itoa(page+1)
	}
	s.render(w, r, status, "admin-organisations", View{Title: "Organisations", Nav: "admin", Data: v, Form: form})
}

// adminAddOrganisation is POST /admin/organisations: a new organisation, validated field by
// field as `safeguard org add` validates it. Unlike the command, it never replaces an existing
// one: a code already known is refused.
func (s *Server) adminAddOrganisation(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageOrgs, "organisation_create", "")
	if !ok {
		return
	}
	values, err := readForm(w, r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	o := safeguard.Organisation{Kind: safeguard.OrgKind(values.Get("kind")), Code: strings.ToUpper(strings.TrimSpace(values.Get("code"))),
		Name: values.Get("name"), Inbox: values.Get("inbox"), HostLA: strings.ToUpper(strings.TrimSpace(values.Get("host_la")))}
	fail := func(fields map[string]string) {
		s.showOrganisations(w, r, http.StatusUnprocessableEntity, 1, &Form{Values: values, Errors: fields, Order: []string{"kind", "code", "name", "inbox", "host_la"}}, "")
	}
	// Every problem at once: the fields Validate refuses and, for a well-formed code, whether
	// it is already taken.
	fields := map[string]string{}
	check := o
	if err := check.Validate(); err != nil {
		var ok bool
		if fields, ok = adminFieldErrors(err, orgFieldMessages); !ok {
			s.webError(w, r, err)
			return
		}
	}
	if _, bad := fields["code"]; !bad && o.Code != "" {
		if _, err := s.DB.FindOrganisation(r.Context(), o.Code); err == nil {
			fields["code"] = "An organisation with the code " + o.Code + " already exists"
		} else if safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
			s.webError(w, r, orUnavailable(err))
			return
		}
	}
	if len(fields) > 0 {
		fail(fields)
		return
	}
	if err := s.DB.UpsertOrganisation(r.Context(), &o); err != nil {
		if fields, ok := adminFieldErrors(err, orgFieldMessages); ok {
			fail(fields)
			return
		}
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &actor.ID, "organisation_create", "ok", "organisation:"+o.Code, string(o.Kind))
	s.showOrganisations(w, r, http.StatusOK, 1, &Form{Values: url.Values{}}, o.Code)
}

type policyClockView struct {
	Name, Label, Due string
	Ladder           []policyStepView
}

type policyStepView struct {
	At, Notify string
}

var targetWords = map[policy.Target]string{
	policy.ResponsibleInbox:    "the responsible organisation's inbox",
	policy.Assignee:            "the person assigned",
	policy.ResponsibleManagers: "the responsible organisation's managers",
	policy.PartnerManagers:     "the partner organisation's managers",
}

// adminPolicy is GET /admin/policy: the deadline policy new concerns are raised under (each
// concern keeps the one it was raised under).
func (s *Server) adminPolicy(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.mayAdmin(w, r, safeguard.ActionManageOrgs, "admin_view_policy", "")
	if !ok {
		return
	}
	s.auditAccount(r, &actor.ID, "admin_view_policy", "ok", "", "")
	var clocks []policyClockView
	for _, name := range policy.ClockNames {
		c, ok := s.Policy.Clocks[name]
		if !ok {
			continue
		}
		v := policyClockView{Name: name, Label: clockNames[name], Due: offsetWords(c.Due.String())}
		for _, st := range c.Ladder {
			var who []string
			for _, t := range st.Notify {
				who = append(who, targetWords[t])
			}
			v.Ladder = append(v.Ladder, policyStepView{At: stepWords(st.At.String()), Notify: strings.Join(who, ", ")})
		}
		clocks = append(clocks, v)
	}
	s.render(w, r, http.StatusOK, "admin-policy", View{Title: "Deadline policy", Nav: "admin", Data: map[string]any{
		"Timezone": s.Policy.Timezone, "Calendar": s.Policy.Calendar, "Clocks": clocks}})
}

// offsetWords says a due offset ("5wd", "90s") in words.
func offsetWords(o string) string {
	if n, ok := strings.CutSuffix(o, "wd"); ok {
		if n == "1" {
			return "1 working day"
		}
		return n + " working days"
	}
	return o
}

// stepWords says when a ladder step fires relative to due.
func stepWords(o string) string {
	switch {
	case o == "0" || o == "0s" || o == "0wd":
		return "At the due time"
	case strings.HasPrefix(o, "-"):
		return sentence(offsetWords(strings.TrimPrefix(o, "-"))) + " before due"
	}
	return sentence(offsetWords(strings.TrimPrefix(o, "+"))) + " after due"
}
