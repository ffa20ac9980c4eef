package session

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/testclock"
)

// fakeAuthz allows users per path prefix and fails for some users.
type fakeAuthz struct {
	allow map[string]string // user → allowed path prefix
	fail  map[string]error  // user → error
}

func (f fakeAuthz) Authorize(_ context.Context, u auth.User, _, path string) (bool, error) {
	if err := f.fail[u.Name]; err != nil {
		return false, err
	}
	prefix, ok := f.allow[u.Name]
	return ok && strings.HasPrefix(path, prefix), nil
}

// brokenAuthn fails for one token with err and delegates the rest.
type brokenAuthn struct {
	auth.Authenticator
	token string
	err   error
}

func (b brokenAuthn) Authenticate(ctx context.Context, token string) (auth.User, error) {
	if token == b.token {
		return auth.User{}, b.err
	}
	return b.Authenticator.Authenticate(ctx, token)
}

// testPage is a minimal LoginPage.
func testPage(w http.ResponseWriter, _ *http.Request, status int, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<form method="post" action="/dashboard/login"><input name="token" type="password"></form><p class="problem">%s</p>`, html.EscapeString(problem))
}

type env struct {
	srv   *httptest.Server
	clock *testclock.Clock
	store *Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := testclock.New(time.Unix(1000, 0))
	store := NewStore(time.Hour, 10, clock.Now)
	tokens := auth.NewStaticTokens(map[string]string{
		"alice-token": "alice", "bob-token": "bob", "carol-token": "carol", "dave-token": "dave",
	})
	m := New(Options{
		Authenticator: brokenAuthn{Authenticator: tokens, token: "broken-token", err: errors.New("reviewer: bad response")},
		Authorizer: fakeAuthz{
			allow: map[string]string{"alice": "/dashboard", "dave": "/dashboard/api"},
			fail:  map[string]error{"carol": fmt.Errorf("sar: %w", auth.ErrUnavailable)},
		},
		Store:     store,
		Path:      "/dashboard",
		LoginPage: testPage,
	})
	mux := http.NewServeMux()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFrom(r.Context())
		_, _ = io.WriteString(w, "hello "+u.Name)
	})
	mux.Handle("/dashboard", m.Guard(hello))
	mux.Handle("/dashboard/", m.Guard(hello))
	mux.HandleFunc("/dashboard/login", m.ServeLogin)
	mux.HandleFunc("/dashboard/logout", m.ServeLogout)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, clock: clock, store: store}
}

// do sends a request without following redirects.
func (e *env) do(t *testing.T, method, path, body string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login logs in with token and returns the session cookie.
func (e *env) login(t *testing.T, token string) *http.Cookie {
	t.Helper()
	resp := e.do(t, http.MethodPost, "/dashboard/login", url.Values{"token": {token}}.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login status = %d, want 303", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == DefaultCookieName {
			return c
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	origin := func(o string) http.Header { return http.Header{"Origin": {o}} }
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		header      http.Header
		wantStatus  int
		wantProblem string // substring of the page; "" = not checked
		wantSession bool
	}{
		{name: "valid token", body: "token=alice-token", wantStatus: 303, wantSession: true},
		{name: "valid token with whitespace and same origin", body: "token=+alice-token%0A", header: origin(e.srv.URL), wantStatus: 303, wantSession: true},
		{name: "same-origin fetch metadata", body: "token=alice-token", header: http.Header{"Sec-Fetch-Site": {"same-origin"}}, wantStatus: 303, wantSession: true},
		{name: "wrong token", body: "token=nope", wantStatus: 401, wantProblem: "not valid"},
		{name: "empty token", body: "token=", wantStatus: 401, wantProblem: "Enter the bearer token"},
		{name: "token in the URL is ignored", path: "/dashboard/login?token=alice-token", body: "x=1", wantStatus: 401, wantProblem: "Enter the bearer token"},
		{name: "cross-origin Origin", body: "token=alice-token", header: origin("http://evil.example"), wantStatus: 403, wantProblem: "Cross-origin"},
		{name: "cross-site fetch metadata", body: "token=alice-token", header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, wantStatus: 403, wantProblem: "Cross-origin"},
		{name: "valid token without permission", body: "token=bob-token", wantStatus: 403, wantProblem: "not allowed"},
		{name: "permission only below the path", body: "token=dave-token", wantStatus: 403},
		{name: "reviewer unavailable", body: "token=carol-token", wantStatus: 503, wantProblem: "cannot be checked"},
		{name: "authenticator bug", body: "token=broken-token", wantStatus: 500, wantProblem: "server error"},
		{name: "GET is not a login", method: http.MethodGet, wantStatus: 405},
		{name: "oversized form", body: "token=" + strings.Repeat("a", maxLoginBody), wantStatus: 400},
		{name: "multipart form is not read", body: "--b\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nalice-token\r\n--b--\r\n",
			header: http.Header{"Content-Type": {"multipart/form-data; boundary=b"}}, wantStatus: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/dashboard/login"
			}
			resp := e.do(t, method, path, tc.body, tc.header)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantProblem != "" && !strings.Contains(body, tc.wantProblem) {
				t.Errorf("body %q does not say %q", body, tc.wantProblem)
			}
			var session *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == DefaultCookieName {
					session = c
				}
			}
			if (session != nil) != tc.wantSession {
				t.Fatalf("session cookie = %v, want one: %v", session, tc.wantSession)
			}
			if !tc.wantSession {
				return
			}
			if got := resp.Header.Get("Location"); got != "/dashboard" {
				t.Errorf("Location = %q, want /dashboard", got)
			}
			got := struct {
				Path     string
				HttpOnly bool
				SameSite http.SameSite
				MaxAge   int
				IDShape  bool
				HasToken bool
			}{session.Path, session.HttpOnly, session.SameSite, session.MaxAge, idPattern.MatchString(session.Value), strings.Contains(session.Value, "alice-token")}
			want := got
			want.Path, want.HttpOnly, want.SameSite, want.MaxAge, want.IDShape, want.HasToken = "/dashboard", true, http.SameSiteStrictMode, 3600, true, false
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cookie (-want +got):\n%s", diff)
			}
			if strings.Contains(resp.Header.Get("Set-Cookie"), "alice-token") || strings.Contains(resp.Header.Get("Location"), "token") {
				t.Error("the token leaked into a header")
			}
			if u, ok := e.store.Lookup(session.Value); !ok || u.Name != "alice" {
				t.Errorf("stored session: %v, %v", u, ok)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.login(t, "alice-token")
	second := e.login(t, "alice-token")
	cookie := func(c *http.Cookie) http.Header { return http.Header{"Cookie": {c.Name + "=" + c.Value}} }
	tests := []struct {
		name        string
		path        string
		header      http.Header
		wantStatus  int
		wantBody    string // substring
		wantCleared bool   // the response clears the session cookie
	}{
		{name: "session cookie", path: "/dashboard", header: cookie(alice), wantStatus: 200, wantBody: "hello alice"},
		{name: "session cookie below the path", path: "/dashboard/api/state", header: cookie(second), wantStatus: 200, wantBody: "hello alice"},
		{name: "bearer header", path: "/dashboard/api/state", header: http.Header{"Authorization": {"Bearer alice-token"}}, wantStatus: 200, wantBody: "hello alice"},
		{name: "bearer header without permission", path: "/dashboard", header: http.Header{"Authorization": {"Bearer bob-token"}}, wantStatus: 403},
		{name: "no credentials gets the login page", path: "/dashboard", wantStatus: 401, wantBody: `<form method="post"`},
		{name: "wrong bearer gets the login page", path: "/dashboard", header: http.Header{"Authorization": {"Bearer nope"}}, wantStatus: 401, wantBody: `name="token"`},
		{name: "forged cookie", path: "/dashboard", header: http.Header{"Cookie": {DefaultCookieName + "=" + strings.Repeat("A", 43)}}, wantStatus: 401, wantBody: "<form", wantCleared: true},
		{name: "token as cookie is not a session", path: "/dashboard", header: http.Header{"Cookie": {DefaultCookieName + "=alice-token"}}, wantStatus: 401, wantCleared: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := e.do(t, http.MethodGet, tc.path, "", tc.header)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", body, tc.wantBody)
			}
			cleared := false
			for _, c := range resp.Cookies() {
				cleared = cleared || (c.Name == DefaultCookieName && c.MaxAge < 0)
			}
			if cleared != tc.wantCleared {
				t.Errorf("cookie cleared = %v, want %v", cleared, tc.wantCleared)
			}
		})
	}
}

func TestSessionIsAuthorizedPerRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// dave may view /dashboard/api only, so he cannot log in to /dashboard;
	// a session created for him directly is still checked on each request.
	id := e.store.Create(auth.User{Name: "dave"})
	h := http.Header{"Cookie": {DefaultCookieName + "=" + id}}
	for path, want := range map[string]int{"/dashboard/api/state": 200, "/dashboard": 403} {
		if resp := e.do(t, http.MethodGet, path, "", h); resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	carol := e.store.Create(auth.User{Name: "carol"})
	if resp := e.do(t, http.MethodGet, "/dashboard", "", http.Header{"Cookie": {DefaultCookieName + "=" + carol}}); resp.StatusCode != 503 {
		t.Errorf("reviewer down: status %d, want 503", resp.StatusCode)
	}
}

func TestSessionExpiresAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.login(t, "alice-token")
	h := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	if resp := e.do(t, http.MethodGet, "/dashboard", "", h); resp.StatusCode != 200 {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	e.clock.Advance(time.Hour)
	if resp := e.do(t, http.MethodGet, "/dashboard", "", h); resp.StatusCode != 401 {
		t.Fatalf("expired session: %d, want 401", resp.StatusCode)
	}

	c = e.login(t, "alice-token")
	h = http.Header{"Cookie": {c.Name + "=" + c.Value}}
	if resp := e.do(t, http.MethodGet, "/dashboard/logout", "", h); resp.StatusCode != 405 {
		t.Errorf("GET logout: %d, want 405", resp.StatusCode)
	}
	if resp := e.do(t, http.MethodPost, "/dashboard/logout", "", http.Header{"Cookie": h["Cookie"], "Origin": {"http://evil.example"}}); resp.StatusCode != 403 {
		t.Errorf("cross-origin logout: %d, want 403", resp.StatusCode)
	}
	resp := e.do(t, http.MethodPost, "/dashboard/logout", "", h)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard" {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cleared := false
	for _, rc := range resp.Cookies() {
		cleared = cleared || (rc.Name == DefaultCookieName && rc.MaxAge < 0 && rc.Value == "")
	}
	if !cleared {
		t.Error("logout did not clear the cookie")
	}
	if resp := e.do(t, http.MethodGet, "/dashboard", "", h); resp.StatusCode != 401 {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
	}
}
