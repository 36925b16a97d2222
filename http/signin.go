package http

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/argon2"
)

// Sign-in with a local account's email and password. Every failure — unknown email, wrong
// password, locked or disabled account, no password set — gets the same answer and costs the
// same Argon2id verification, so the page tells nobody which accounts exist or are locked; the
// audit log records which it was.

// signInFailed is the one message for every failed sign-in.
const signInFailed = "Enter a correct email address and password. After 5 wrong attempts in 15 minutes an account is locked for 15 minutes."

// maxFormBody bounds a sign-in or password form.
const maxFormBody = 8 << 10

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	ret := safeReturn(r.URL.Query().Get("return"))
	if u, err := s.sessionUser(r); err == nil && u != nil {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "sign-in", View{Title: "Sign in", Form: &Form{Values: url.Values{"return": {ret}}}})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.webError(w, r, safeguard.Errorf(safeguard.EMALFORMED, "The form could not be read. Go back and try again."))
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password") // as typed: spaces are part of a password
	ret := safeReturn(r.PostForm.Get("return"))
	// The password is never sent back to the page.
	form := &Form{Values: url.Values{"email": {email}, "return": {ret}}, Errors: map[string]string{}, Order: []string{"email", "password"}}
	if email == "" {
		form.Errors["email"] = "Enter your email address"
	}
	if password == "" {
		form.Errors["password"] = "Enter your password"
	}
	if len(form.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "sign-in", View{Title: "Sign in", Form: form})
		return
	}
	now := s.Now()
	wait := s.limits.address.wait(remoteAddr(r), now)
	if wait == 0 {
		wait = s.limits.account.wait(strings.ToLower(email), now)
	}
	if wait > 0 {
		_ = tooMany(w, wait)
		s.auditAccount(r, nil, "sign_in_failed", safeguard.ERATELIMIT, "", "rate limited")
		form.Errors["email"] = fmt.Sprintf("Too many attempts to sign in. Wait %s and try again.", waitText(wait))
		s.render(w, r, http.StatusTooManyRequests, "sign-in", View{Title: "Sign in", Form: form})
		return
	}
	u, target, detail, err := s.checkPassword(r.Context(), email, password)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	if u == nil {
		s.auditAccount(r, nil, "sign_in_failed", safeguard.EUNAUTHORIZED, target, detail)
		form.Errors["email"] = signInFailed
		s.render(w, r, http.StatusUnauthorized, "sign-in", View{Title: "Sign in", Form: form})
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &u.ID, "sign_in", "ok", fmt.Sprintf("user:%d", u.ID), "password")
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// checkPassword returns the user if the password is theirs and the account may sign in now;
// otherwise no user, and for the audit log what the attempt was about and why it failed.
func (s *Server) checkPassword(ctx context.Context, email, password string) (u *safeguard.User, target, detail string, err error) {
	if len(password) > 4*safeguard.MaxPasswordLength {
		// Far beyond any password we accept: refuse without spending a hash on it.
		argon2.Waste("")
		return nil, "", "password too long", nil
	}
	c, err := s.DB.FindCredentials(ctx, email)
	if safeguard.ErrorCode(err) == safeguard.ENOTFOUND {
		argon2.Waste(password)
		return nil, "", "unknown account", nil
	} else if err != nil {
		return nil, "", "", err
	}
	target = fmt.Sprintf("user:%d", c.ID)
	ok := false
	if c.PasswordHash == nil {
		argon2.Waste(password)
	} else if ok, err = argon2.Verify(*c.PasswordHash, password); err != nil {
		s.Logger.Error("stored password hash is unreadable", "user_id", c.ID, "error", err)
		ok = false
	}
	now := s.DB.Now()
	switch {
	case c.Disabled:
		return nil, target, "account disabled", nil
	case c.Locked(now):
		return nil, target, "account locked", nil
	case c.PasswordHash == nil:
		return nil, target, "no password set", nil
	case !ok:
		f, err := s.DB.RecordSignInFailure(ctx, c.ID, s.Lockout)
		if err != nil {
			return nil, "", "", err
		}
		if f.Locked(now) {
			return nil, target, "wrong password; account now locked", nil
		}
		return nil, target, "wrong password", nil
	}
	if err := s.DB.ClearSignInFailures(ctx, c.ID); err != nil {
		return nil, "", "", err
	}
	if argon2.NeedsRehash(*c.PasswordHash, argon2.Default) {
		if h, err := argon2.Hash(password, argon2.Default); err == nil {
			_ = s.DB.SetPasswordHash(ctx, c.ID, h)
		}
	}
	return &c.User, target, "", nil
}

// signOut ends the browser's session, whoever it belongs to, and clears the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if tok := sessionToken(r); tok != "" {
		sess, err := s.DB.RevokeSession(r.Context(), tok)
		switch {
		case err == nil:
			s.auditAccount(r, &sess.UserID, "sign_out", "ok", fmt.Sprintf("session:%d", sess.ID), "")
		case safeguard.ErrorCode(err) != safeguard.ENOTFOUND:
			s.webError(w, r, orUnavailable(err))
			return
		}
	}
	clearSessionCookie(w)
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
}

// setupPage shows the form to set a password from a one-time link (the first admin's).
func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	u, err := s.DB.SetupTokenUser(r.Context(), token)
	if err != nil {
		s.webError(w, r, orUnavailable(setupLinkError(err)))
		return
	}
	s.render(w, r, http.StatusOK, "setup", View{Title: "Set your password", Data: u, Form: &Form{Values: url.Values{"token": {token}}}})
}

// setup sets the password, uses the link up and signs the person in.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.webError(w, r, safeguard.Errorf(safeguard.EMALFORMED, "The form could not be read. Go back and try again."))
		return
	}
	token, password, confirm := r.PostForm.Get("token"), r.PostForm.Get("password"), r.PostForm.Get("confirm")
	u, err := s.DB.SetupTokenUser(r.Context(), token)
	if err != nil {
		s.webError(w, r, orUnavailable(setupLinkError(err)))
		return
	}
	form := &Form{Values: url.Values{"token": {token}}, Errors: map[string]string{}, Order: []string{"password", "confirm"}}
	if err := safeguard.ValidatePassword(password); err != nil {
		form.Errors["password"] = err.(*safeguard.Error).Fields["password"]
	} else if confirm != password {
		form.Errors["confirm"] = "Passwords do not match: type the same password twice"
	}
	if len(form.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "setup", View{Title: "Set your password", Data: u, Form: form})
		return
	}
	hash, err := argon2.Hash(password, argon2.Default)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	if u, err = s.DB.UseSetupToken(r.Context(), token, hash); err != nil {
		s.webError(w, r, orUnavailable(setupLinkError(err)))
		return
	}
	s.auditAccount(r, &u.ID, "password_set", "ok", fmt.Sprintf("user:%d", u.ID), "one-time setup link")
	if err := s.startSession(w, r, u); err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &u.ID, "sign_in", "ok", fmt.Sprintf("user:%d", u.ID), "one-time setup link")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func setupLinkError(err error) error {
	if safeguard.ErrorCode(err) == safeguard.EUNAUTHORIZED {
		return safeguard.Errorf(safeguard.EUNAUTHORIZED, "This link has expired or has already been used. Ask an administrator for a new one, or use 'safeguard user password'.")
	}
	return err
}

func waitText(d time.Duration) string {
	sec := int(d.Seconds() + 0.999)
	if sec <= 1 {
		return "a second"
	}
	if sec < 60 {
		return fmt.Sprintf("%d seconds", sec)
	}
	return fmt.Sprintf("%d minutes", (sec+59)/60)
}
