package http

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-project/safeguard"
)

// The web interface is server-rendered from templates embedded in the binary. Every page is
// layout.html around one page template; partials (names starting with "_") are shared by all.
// Pages work without JavaScript and no page carries inline script or style, so the
// Content-Security-Policy can forbid both.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// View is what every page template receives: who is signed in, the page's own data, and the
// state of a submitted form.
type View struct {
	Title string          // the page's own title; the layout adds the service name
	User  *safeguard.User // nil on pages that need no sign-in
	Data  any
	Form  *Form
	// Nav names the navigation item to mark as current.
	Nav string
	// SingleSignOn says the sign-in page may offer the organisation's identity provider.
	SingleSignOn bool
}

// Form carries what the user typed and what was wrong with it, so a failed submission comes
// back with everything kept and every error explained.
type Form struct {
	Values map[string][]string
	Errors map[string]string // field name -> message
	// Order lists the fields with errors in the order they appear on the page, for the error
	// summary; fields not listed come after, alphabetically.
	Order []string
}

// Get returns the first value typed for a field.
func (f *Form) Get(name string) string {
	if f == nil || len(f.Values[name]) == 0 {
		return ""
	}
	return f.Values[name][0]
}

// Has reports whether value was among those chosen for a field (checkboxes, radios).
func (f *Form) Has(name, value string) bool {
	if f == nil {
		return false
	}
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Error returns the message for a field, or "".
func (f *Form) Error(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// FieldError is one entry of the error summary.
type FieldError struct {
	Field, Message string
}

// Summary lists the errors in page order.
func (f *Form) Summary() []FieldError {
	if f == nil || len(f.Errors) == 0 {
		return nil
	}
	var out []FieldError
	seen := map[string]bool{}
	for _, name := range f.Order {
		if msg, ok := f.Errors[name]; ok && !seen[name] {
			out = append(out, FieldError{name, msg})
			seen[name] = true
		}
	}
	var rest []string
	for name := range f.Errors {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		out = append(out, FieldError{name, f.Errors[name]})
	}
	return out
}

// templateFuncs are the helpers page templates may call.
var templateFuncs = template.FuncMap{
	// fieldID turns a field path ("subject.date_of_birth") into an element id.
	"fieldID": func(name string) string {
		return "f-" + strings.NewReplacer(".", "-", "[", "-", "]", "", "_", "-").Replace(name)
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(london).Format("2 January 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(london).Format("2 January 2006 at 15:04")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"humanize": func(s any) string {
		return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	},
	// set returns a copy of a dict with one more key, for a partial that passes its arguments on.
	"set": func(m map[string]any, k string, v any) map[string]any {
		out := make(map[string]any, len(m)+1)
		for key, val := range m {
			out[key] = val
		}
		out[k] = v
		return out
	},
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict wants key-value pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// pages holds each page template parsed with the layout and partials, built once.
var pages = struct {
	once sync.Once
	set  map[string]*template.Template
	err  error
}{}

func loadPages() (map[string]*template.Template, error) {
	pages.once.Do(func() {
		base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
		if err != nil {
			pages.err = err
			return
		}
		names, err := fs.Glob(templateFS, "templates/*.html")
		if err != nil {
			pages.err = err
			return
		}
		pages.set = map[string]*template.Template{}
		for _, name := range names {
			file := path.Base(name)
			if file == "layout.html" || strings.HasPrefix(file, "_") {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(templateFS, name)
			if err != nil {
				pages.err = err
				return
			}
			pages.set[strings.TrimSuffix(file, ".html")] = t
		}
	})
	return pages.set, pages.err
}

// render writes a page with the given status. It renders into a buffer first, so a template
// failure becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v View) {
	set, err := loadPages()
	if err != nil {
		s.Logger.Error("parse templates", "error", err)
		http.Error(w, "The service is not working properly.", http.StatusInternalServerError)
		return
	}
	t, ok := set[page]
	if !ok {
		s.Logger.Error("no such page template", "page", page)
		http.Error(w, "The service is not working properly.", http.StatusInternalServerError)
		return
	}
	if v.User == nil {
		v.User = userFrom(r.Context())
	}
	v.SingleSignOn = s.OIDC != nil
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.Logger.Error("render page", "page", page, "error", err)
		http.Error(w, "The service is not working properly.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// webError answers a failed page request with a page, not JSON: the same codes and statuses as
// the API (one mapping, in error.go), the same rule that internal detail never leaks.
func (s *Server) webError(w http.ResponseWriter, r *http.Request, err error) {
	code := safeguard.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch code {
	case safeguard.EINTERNAL:
		s.Logger.Error("internal error", "route", routeOf(r), "error", err)
	case safeguard.EUNAVAILABLE:
		s.Logger.Warn("dependency unavailable", "route", routeOf(r), "error", err)
		w.Header().Set("Retry-After", "5")
	}
	s.render(w, r, status, "error", View{Title: http.StatusText(status), Data: errorPage{
		Status:  status,
		Code:    code,
		Message: safeguard.ErrorMessage(err),
	}})
}

type errorPage struct {
	Status  int
	Code    string
	Message string
}

// static serves the stylesheet and other assets. They hold no personal data, so unlike pages
// they may be cached.
func (s *Server) static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			s.webError(w, r, safeguard.Errorf(safeguard.ENOTFOUND, "no such page"))
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// wantsHTML reports whether a request is from a browser page rather than an API client.
func wantsHTML(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}
