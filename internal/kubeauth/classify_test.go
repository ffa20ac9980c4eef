package kubeauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/infergate/infergate/internal/auth"
)

// apiCallErrors are errors client-go returns for a review call, with how
// Authenticate and Authorize must report them.
var apiCallErrors = []struct {
	name   string
	err    error
	want   error  // auth.ErrUnavailable or errPlain
	result string // reviews_total result label
	// wantIn is expected in the error text; %s is replaced by the
	// resource (tokenreviews.authentication.k8s.io or
	// subjectaccessreviews.authorization.k8s.io).
	wantIn string
}{
	{
		name: "connection refused",
		err: &url.Error{Op: "Post", URL: "https://127.0.0.1:6443/apis/x", Err: &net.OpError{
			Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}},
		want: auth.ErrUnavailable, result: resultUnavailable, wantIn: "connection refused",
	},
	{name: "deadline exceeded", err: fmt.Errorf("post: %w", context.DeadlineExceeded), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "unexpected EOF", err: &url.Error{Op: "Post", URL: "https://x", Err: io.ErrUnexpectedEOF}, want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "rate limiter gave up", err: errors.New("client rate limiter Wait returned an error: rate: Wait(n=1) would exceed context deadline"), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "429", err: apierrors.NewTooManyRequests("too many requests", 1), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "500", err: apierrors.NewInternalError(errors.New("etcd")), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "503", err: apierrors.NewServiceUnavailable("shutting down"), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "504", err: apierrors.NewTimeoutError("slow", 1), want: auth.ErrUnavailable, result: resultUnavailable},
	{name: "server timeout", err: apierrors.NewServerTimeout(authnv1.Resource("tokenreviews"), "create", 1), want: auth.ErrUnavailable, result: resultUnavailable},
	{
		name: "gateway lacks RBAC",
		err: apierrors.NewForbidden(authnv1.Resource("tokenreviews"), "",
			errors.New(`user "system:serviceaccount:default:gw" cannot create resource`)),
		want: errPlain, result: resultError, wantIn: "lacks permission to create %s",
	},
	{name: "gateway credentials rejected", err: apierrors.NewUnauthorized("Unauthorized"), want: errPlain, result: resultError, wantIn: "gateway's own credentials"},
	{name: "404", err: apierrors.NewNotFound(authnv1.Resource("tokenreviews"), ""), want: errPlain, result: resultError, wantIn: "creating %s"},
	{name: "400", err: apierrors.NewBadRequest("bad"), want: errPlain, result: resultError},
	{
		name: "unknown CA",
		err:  &url.Error{Op: "Post", URL: "https://x", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
		want: errPlain, result: resultError, wantIn: "certificate",
	},
	{name: "hostname mismatch", err: &url.Error{Op: "Post", URL: "https://x", Err: x509.HostnameError{Host: "x", Certificate: &x509.Certificate{}}}, want: errPlain, result: resultError},
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range apiCallErrors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tokens := &fakeTokens{respond: func(context.Context, authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
				return authnv1.TokenReviewStatus{}, tc.err
			}}
			access := &fakeAccess{respond: func(context.Context, authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
				return authzv1.SubjectAccessReviewStatus{}, tc.err
			}}
			d, _ := newTestDelegate(t, tokens, access, Options{})

			_, err := d.Authenticate(context.Background(), aliceToken)
			checkErr(t, err, tc.want, resourceIn(tc.wantIn, tokenReviewsResource))
			allowed, err := d.Authorize(context.Background(), alice, "get", "/metrics")
			if allowed {
				t.Error("Authorize allowed on error")
			}
			checkErr(t, err, tc.want, resourceIn(tc.wantIn, subjectAccessReviewsResource))

			for _, kind := range []string{kindToken, kindAccess} {
				if got := counter(t, d, "reviews", kind, tc.result); got != 1 {
					t.Errorf("reviews_total{kind=%q,result=%q} = %v; want 1", kind, tc.result, got)
				}
			}
		})
	}
}

// resourceIn fills the %s of pattern with resource.
func resourceIn(pattern, resource string) string {
	if !strings.Contains(pattern, "%s") {
		return pattern
	}
	return fmt.Sprintf(pattern, resource)
}

// TestMiddlewareStatuses runs the Delegate inside auth.Middleware over
// loopback HTTP and checks the status of every outcome.
func TestMiddlewareStatuses(t *testing.T) {
	users := map[string]authnv1.UserInfo{
		"reader-token": {Username: "reader", Groups: []string{"system:authenticated"}},
		"other-token":  {Username: "other"},
	}
	forbidden := apierrors.NewForbidden(authnv1.Resource("tokenreviews"), "", errors.New("no RBAC"))
	tests := []struct {
		name       string
		header     string
		method     string
		path       string
		tokenErr   error // error of every TokenReview
		accessErr  error // error of every SubjectAccessReview
		wantStatus int
	}{
		{name: "allowed", header: "Bearer reader-token", path: "/metrics", wantStatus: http.StatusOK},
		{name: "no header", path: "/metrics", wantStatus: http.StatusUnauthorized},
		{name: "garbage token", header: "Bearer garbage", path: "/metrics", wantStatus: http.StatusUnauthorized},
		{name: "other user", header: "Bearer other-token", path: "/metrics", wantStatus: http.StatusForbidden},
		{name: "other path", header: "Bearer reader-token", path: "/debug/pprof/heap", wantStatus: http.StatusForbidden},
		{name: "other verb", header: "Bearer reader-token", method: http.MethodPost, path: "/metrics", wantStatus: http.StatusForbidden},
		{name: "token review unavailable", header: "Bearer reader-token", path: "/metrics", tokenErr: apierrors.NewServiceUnavailable("down"), wantStatus: http.StatusServiceUnavailable},
		{name: "token review forbidden", header: "Bearer reader-token", path: "/metrics", tokenErr: forbidden, wantStatus: http.StatusInternalServerError},
		{name: "access review unavailable", header: "Bearer reader-token", path: "/metrics", accessErr: apierrors.NewTooManyRequests("slow", 1), wantStatus: http.StatusServiceUnavailable},
		{name: "access review forbidden", header: "Bearer reader-token", path: "/metrics", accessErr: forbidden, wantStatus: http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			table := tokenTable(users)
			tokens := &fakeTokens{respond: func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
				if tc.tokenErr != nil {
					return authnv1.TokenReviewStatus{}, tc.tokenErr
				}
				return table(ctx, spec)
			}}
			allow := allowPaths("reader", "/metrics")
			access := &fakeAccess{respond: func(ctx context.Context, spec authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
				if tc.accessErr != nil {
					return authzv1.SubjectAccessReviewStatus{}, tc.accessErr
				}
				return allow(ctx, spec)
			}}
			d, _ := newTestDelegate(t, tokens, access, Options{})
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, found := auth.UserFrom(r.Context()); !found || u.Name != "reader" {
					t.Errorf("handler saw user %+v", u)
				}
				_, _ = io.WriteString(w, "ok")
			})
			srv := httptest.NewServer(auth.Middleware(d, d, auth.MiddlewareOptions{})(ok))
			defer srv.Close()

			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.wantStatus)
			}
		})
	}
}
