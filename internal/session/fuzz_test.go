package session

import (
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/testlog"
)

// validToken is the only token fuzzManager accepts.
const validToken = "fuzz-token-0123456789abcdef"

// fuzzManager returns a Manager that accepts validToken (user alice, allowed
// everywhere), its store, and the buffer its logs go to.
func fuzzManager() (*Manager, *Store, *testlog.Buffer) {
	store := NewStore(time.Hour, 1000, nil)
	logs := &testlog.Buffer{}
	m := New(Options{
		Authenticator: auth.NewStaticTokens(map[string]string{validToken: "alice"}),
		Authorizer:    fakeAuthz{allow: map[string]string{"alice": "/"}},
		Store:         store,
		Path:          "/dashboard",
		LoginPage:     testPage,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return m, store, logs
}

// headerSafe reports whether a real HTTP/1.1 server would accept v as a
// header value (no control bytes but tab), so in-process requests stay
// within what a client can send.
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzLoginForm posts arbitrary login bodies: the answer is a redirect with
// a working session cookie exactly when the form's token is the valid one,
// a re-shown login page with a 4xx status otherwise, and the token never
// reaches the logs.
func FuzzLoginForm(f *testing.F) {
	f.Add("token="+validToken, "application/x-www-form-urlencoded")
	f.Add("token=+"+url.QueryEscape(validToken)+"%20", "application/x-www-form-urlencoded")
	f.Add("token=wrong&token="+validToken, "application/x-www-form-urlencoded")
	f.Add("token=%zz", "application/x-www-form-urlencoded")
	f.Add("token="+validToken, "multipart/form-data; boundary=x")
	f.Add(strings.Repeat("a", maxLoginBody+1), "application/x-www-form-urlencoded")
	f.Add("", "text/plain")
	m, store, logs := fuzzManager()
	f.Fuzz(func(t *testing.T, body, contentType string) {
		if !headerSafe(contentType) {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		m.ServeLogin(rec, req)

		// The oracle: net/http's form rules (media type, then the query
		// syntax), the body limit, and the trimmed first token field.
		mt, _, mtErr := mime.ParseMediaType(contentType)
		form, formErr := url.ParseQuery(body)
		wantLogin := mtErr == nil && mt == "application/x-www-form-urlencoded" && formErr == nil &&
			len(body) <= maxLoginBody && strings.TrimSpace(form.Get("token")) == validToken
		var session *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == DefaultCookieName && c.Value != "" {
				session = c
			}
		}
		switch rec.Code {
		case http.StatusSeeOther:
			if session == nil {
				t.Fatal("login redirected without a session cookie")
			}
			if u, ok := store.Lookup(session.Value); !ok || u.Name != "alice" {
				t.Fatalf("the session cookie finds %v, %v", u, ok)
			}
			if !wantLogin {
				t.Fatalf("logged in with body %q", body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
			if session != nil {
				t.Fatalf("status %d set a session cookie", rec.Code)
			}
			if wantLogin {
				t.Fatalf("the valid token in %q was refused with %d", body, rec.Code)
			}
		default:
			t.Fatalf("status %d for body %q (%s)", rec.Code, body, contentType)
		}
		if strings.Contains(logs.String(), validToken) {
			t.Fatal("the token reached the logs")
		}
	})
}

// FuzzGuardCookie presents arbitrary Cookie headers to a guarded handler:
// only the live session's ID under the session cookie's name gets through;
// anything else gets 401 and never panics.
func FuzzGuardCookie(f *testing.F) {
	m, store, _ := fuzzManager()
	id := store.Create(auth.User{Name: "alice"})
	f.Add(DefaultCookieName + "=" + id)
	f.Add("a=b; " + DefaultCookieName + "=" + id + "x")
	f.Add(DefaultCookieName + "=\"" + id + "\"")
	f.Add(DefaultCookieName + "=;" + DefaultCookieName + "=" + id)
	f.Add("")
	guarded := m.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFrom(r.Context())
		_, _ = io.WriteString(w, "hello "+u.Name)
	}))
	f.Fuzz(func(t *testing.T, cookie string) {
		if !headerSafe(cookie) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		guarded.ServeHTTP(rec, req)
		c, err := req.Cookie(DefaultCookieName)
		live := err == nil && c.Value == id
		switch {
		case live && (rec.Code != http.StatusOK || rec.Body.String() != "hello alice"):
			t.Fatalf("the live session in %q got %d %q", cookie, rec.Code, rec.Body)
		case !live && rec.Code != http.StatusUnauthorized:
			t.Fatalf("cookie %q got %d, want 401", cookie, rec.Code)
		}
		if _, ok := store.Lookup(id); !ok {
			t.Fatal("a presented cookie ended the live session")
		}
	})
}
