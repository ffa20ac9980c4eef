package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeAuthn answers from a table keyed by token; unknown tokens are
// unauthenticated.
type fakeAuthn map[string]authnResult

type authnResult struct {
	user User
	err  error
}

func (f fakeAuthn) Authenticate(_ context.Context, token string) (User, error) {
	if r, ok := f[token]; ok {
		return r.user, r.err
	}
	return User{}, fmt.Errorf("fake: %w", ErrUnauthenticated)
}

// fakeAuthz allows users by name and records what it was asked.
type fakeAuthz struct {
	mu    sync.Mutex
	rules map[string]authzResult // by user name
	asked []string               // "user verb path"
}

type authzResult struct {
	allow bool
	err   error
}

func (f *fakeAuthz) Authorize(_ context.Context, u User, verb, path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, u.Name+" "+verb+" "+path)
	r := f.rules[u.Name]
	return r.allow, r.err
}

// echoUser is the protected handler: it answers 200 with the user's name.
var echoUser = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := UserFrom(r.Context())
	if !ok {
		http.Error(w, "no user in context", http.StatusTeapot)
		return
	}
	_, _ = io.WriteString(w, "hello "+u.Name)
})

func newFakes() (fakeAuthn, *fakeAuthz) {
	authn := fakeAuthn{
		"good":          {user: User{Name: "alice"}},
		"bob-token":     {user: User{Name: "bob"}},
		"carol-token":   {user: User{Name: "carol"}},
		"dave-token":    {user: User{Name: "dave"}},
		"down":          {err: fmt.Errorf("tokenreview: dial tcp: %w", ErrUnavailable)},
		"broken":        {err: errors.New("tokenreview: unexpected response")},
		"nameless":      {user: User{}},
		"both-sentinel": {err: errors.Join(ErrUnauthenticated, ErrUnavailable)},
	}
	authz := &fakeAuthz{rules: map[string]authzResult{
		"alice": {allow: true},
		"bob":   {allow: false},
		"carol": {err: fmt.Errorf("subjectaccessreview: %w", ErrUnavailable)},
		"dave":  {err: errors.New("subjectaccessreview: bad response")},
	}}
	return authn, authz
}

func TestMiddleware(t *testing.T) {
	authn, authz := newFakes()
	srv := httptest.NewServer(Middleware(authn, authz, MiddlewareOptions{})(echoUser))
	defer srv.Close()

	tests := []struct {
		name          string
		method        string
		headers       []string // Authorization header values, one per header line
		wantStatus    int
		wantChallenge string
		wantBody      string
	}{
		{name: "no header", headers: nil, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "basic scheme", headers: []string{"Basic YWxpY2U6cHc="}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "scheme only", headers: []string{"Bearer"}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "scheme and space only", headers: []string{"Bearer "}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "two tokens", headers: []string{"Bearer good good"}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "token with comma", headers: []string{"Bearer good,other"}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "two headers", headers: []string{"Bearer good", "Bearer good"}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "bearer without space", headers: []string{"Bearergood"}, wantStatus: 401, wantChallenge: "Bearer"},
		{name: "unknown token", headers: []string{"Bearer nope"}, wantStatus: 401, wantChallenge: `Bearer error="invalid_token"`},
		{name: "allowed", headers: []string{"Bearer good"}, wantStatus: 200, wantBody: "hello alice"},
		{name: "scheme is case-insensitive", headers: []string{"bEaReR good"}, wantStatus: 200, wantBody: "hello alice"},
		{name: "several spaces", headers: []string{"Bearer    good"}, wantStatus: 200, wantBody: "hello alice"},
		{name: "post allowed", method: http.MethodPost, headers: []string{"Bearer good"}, wantStatus: 200},
		{name: "denied", headers: []string{"Bearer bob-token"}, wantStatus: 403},
		{name: "authn unavailable", headers: []string{"Bearer down"}, wantStatus: 503},
		{name: "authn unavailable and unauthenticated", headers: []string{"Bearer both-sentinel"}, wantStatus: 503},
		{name: "authn other error", headers: []string{"Bearer broken"}, wantStatus: 500},
		{name: "authn user without name", headers: []string{"Bearer nameless"}, wantStatus: 500},
		{name: "authz unavailable", headers: []string{"Bearer carol-token"}, wantStatus: 503},
		{name: "authz other error", headers: []string{"Bearer dave-token"}, wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/metrics", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantChallenge)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func TestMiddlewarePassesVerbAndPath(t *testing.T) {
	authn, authz := newFakes()
	srv := httptest.NewServer(Middleware(authn, authz, MiddlewareOptions{})(echoUser))
	defer srv.Close()

	for _, r := range []struct{ method, target string }{
		{http.MethodGet, "/metrics?name[]=x"},
		{http.MethodPost, "/debug/pprof/symbol"},
		{http.MethodHead, "/dashboard/"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), r.method, srv.URL+r.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer good")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{"alice get /metrics", "alice post /debug/pprof/symbol", "alice head /dashboard/"}
	if diff := cmp.Diff(want, authz.asked); diff != "" {
		t.Errorf("authorizer calls (-want +got):\n%s", diff)
	}
}

func TestMiddlewareUnauthorizedHandler(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.Handler
		wantBody string
	}{
		{
			name: "login page that tries to answer 200",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "<form>login</form>")
			}),
			wantBody: "<form>login</form>",
		},
		{
			name: "body without WriteHeader",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "please log in")
			}),
			wantBody: "please log in",
		},
		{
			name:     "handler that writes nothing",
			handler:  http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
			wantBody: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			authn, authz := newFakes()
			srv := httptest.NewServer(Middleware(authn, authz, MiddlewareOptions{Unauthorized: tc.handler})(echoUser))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/dashboard")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUnauthorized || string(body) != tc.wantBody {
				t.Errorf("got %d %q, want 401 %q", resp.StatusCode, body, tc.wantBody)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
		})
	}
}

// blockingAuthn waits for its context and returns its error.
type blockingAuthn struct{}

func (blockingAuthn) Authenticate(ctx context.Context, _ string) (User, error) {
	<-ctx.Done()
	return User{}, ctx.Err()
}

func TestMiddlewareClientGone(t *testing.T) {
	var logs bytes.Buffer
	h := Middleware(blockingAuthn{}, AllowAll{}, MiddlewareOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})(echoUser)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer good")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", rec.Code)
	}
	if !strings.Contains(logs.String(), "level=DEBUG") || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("client disconnect should log at debug only; logs: %s", logs.String())
	}
}

func TestMiddlewareNeverLogsToken(t *testing.T) {
	const secret = "s3cr3t-T0ken_value.abc"
	authn := fakeAuthn{
		secret + "1": {user: User{Name: "alice"}},
		secret + "2": {user: User{Name: "bob"}},
		// Misbehaving implementations that echo the token in their errors.
		secret + "3": {err: fmt.Errorf("token %s: %w", secret+"3", ErrUnavailable)},
		secret + "4": {err: fmt.Errorf("token %q rejected: %w", secret+"4", ErrUnauthenticated)},
		secret + "5": {err: errors.New("cannot parse " + secret + "5")},
		secret + "6": {user: User{Name: "dave"}},
	}
	authz := &fakeAuthz{rules: map[string]authzResult{
		"alice": {allow: true},
		"bob":   {allow: false},
		"dave":  {err: errors.New("denied token " + secret + "6")},
	}}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// A clock a second further on every reading, so that the log's rate
	// limit lets every record through.
	failures := NewFailures(FailuresOptions{Logger: logger, Now: newFakeClock().Stepping(time.Second)})
	srv := httptest.NewServer(Middleware(authn, authz, MiddlewareOptions{Logger: logger, Failures: failures})(echoUser))
	defer srv.Close()

	headers := []string{"Bearer " + secret + "0", "Bearer " + secret + " extra", "Basic " + secret}
	for i := 1; i <= 6; i++ {
		headers = append(headers, fmt.Sprintf("Bearer %s%d", secret, i))
	}
	for _, h := range headers {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", h)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	out := logs.String()
	if n := strings.Count(out, "\n"); n < len(headers)-1 { // all but the allowed request log
		t.Fatalf("got %d log records, want at least %d; logs:\n%s", n, len(headers)-1, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("logs contain the token:\n%s", out)
	}
	if !strings.Contains(out, "[REDACTED]") {
		t.Errorf("echoed tokens were not redacted:\n%s", out)
	}
}

func TestMiddlewareNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Middleware(nil, ...) did not panic")
		}
	}()
	Middleware(nil, AllowAll{}, MiddlewareOptions{})
}

func TestUserFrom(t *testing.T) {
	if _, ok := UserFrom(t.Context()); ok {
		t.Error("UserFrom on a bare context reported a user")
	}
	want := User{Name: "alice", Groups: []string{"admins"}}
	got, ok := UserFrom(WithUser(t.Context(), want))
	if !ok {
		t.Fatal("UserFrom lost the user")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
}
