package http

import (
	"time"

	"github.com/safeguard-project/safeguard"
)

// Template helpers the web pages add to those of web.go.
func init() {
	templateFuncs["yesNo"] = func() []option {
		return []option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}
	}
	templateFuncs["has"] = func(m map[string]bool, k string) bool { return m[k] }
}

func init() {
	templateFuncs["list"] = func(v ...string) []string { return v }
	templateFuncs["deref"] = func(v any) any {
		switch p := v.(type) {
		case *bool:
			return *p
		case *time.Time:
			return *p
		}
		return v
	}
}

func init() {
	templateFuncs["reasonHint"] = func(action string) string {
		if action == "pause" {
			return "For example, while the police investigate. Deadlines stop while the concern is paused."
		}
		return ""
	}
	// send_back=no signs the closure off; yes sends it back to the lead.
	templateFuncs["signOffOptions"] = func() []option {
		return []option{{Value: "no", Label: "Sign off the closure"}, {Value: "yes", Label: "Send it back to the safeguarding lead", Hint: "Give the reason below."}}
	}
}

func init() {
	// may asks the access policy whether u may take an action not about one concern, so that a
	// template shows a link only to those the policy lets use it.
	templateFuncs["may"] = func(u *safeguard.User, a string) bool {
		return safeguard.Authorize(u, safeguard.Action(a), nil) == nil
	}
}
