package kube

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/infergate/infergate/internal/kubetest"
)

const (
	metricsReaderFile = "../../deploy/rbac/metrics-reader.yaml"
	readerSA          = "inference-gateway-sa-metrics-reader"
	readerSecret      = "inference-gateway-sa-metrics-reader-secret"
	readerUser        = "system:serviceaccount:default:" + readerSA
)

// TestMetricsReaderRBAC reproduces the verification of Google's Managed
// Prometheus guide on a real control plane: the token controller fills the
// guide's Secret, TokenReview authenticates the token as the guide's
// ServiceAccount, and a SubjectAccessReview for `get /metrics` — the checks
// infergate's /metrics guard makes — is allowed for it and denied for a
// ServiceAccount without the ClusterRole. The collector may read the Secret.
func TestMetricsReaderRBAC(t *testing.T) {
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	applier, err := kubetest.NewApplier(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}

	manifest, err := os.ReadFile(metricsReaderFile)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := applier.Apply(ctx, manifest)
	if err != nil {
		t.Fatalf("apply %s: %v", metricsReaderFile, err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	want := []string{
		"ClusterRole/inference-gateway-metrics-reader",
		"ServiceAccount/inference-gateway-sa-metrics-reader",
		"ClusterRoleBinding/inference-gateway-sa-metrics-reader-role-binding",
		"Secret/inference-gateway-sa-metrics-reader-secret",
		"ClusterRole/inference-gateway-sa-metrics-reader-secret-read",
		"ClusterRoleBinding/gmp-system:collector:inference-gateway-sa-metrics-reader-secret-read",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("objects in %s (-want +got):\n%s", metricsReaderFile, diff)
	}

	readerToken := waitForToken(ctx, t, admin, readerSecret)

	// A ServiceAccount with a token but without the ClusterRole.
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "no-metrics-role"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "no-metrics-role-token",
			Annotations: map[string]string{corev1.ServiceAccountNameKey: "no-metrics-role"},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	otherToken := waitForToken(ctx, t, admin, "no-metrics-role-token")

	t.Run("TokenReview", func(t *testing.T) {
		tests := []struct {
			name     string
			token    string
			wantAuth bool
			wantUser string
		}{
			{name: "guide token", token: readerToken, wantAuth: true, wantUser: readerUser},
			{name: "other ServiceAccount", token: otherToken, wantAuth: true, wantUser: "system:serviceaccount:default:no-metrics-role"},
			{name: "garbage", token: "not-a-token", wantAuth: false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tr, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
					Spec: authnv1.TokenReviewSpec{Token: tc.token},
				}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if tr.Status.Authenticated != tc.wantAuth || tr.Status.User.Username != tc.wantUser {
					t.Fatalf("TokenReview: authenticated=%v user=%q (error %q); want authenticated=%v user=%q",
						tr.Status.Authenticated, tr.Status.User.Username, tr.Status.Error, tc.wantAuth, tc.wantUser)
				}
			})
		}
	})

	t.Run("SubjectAccessReview", func(t *testing.T) {
		sa := func(ns, name string) (string, []string) {
			return "system:serviceaccount:" + ns + ":" + name,
				[]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
		}
		tests := []struct {
			name      string
			ns, sa    string
			nonRes    *authzv1.NonResourceAttributes
			res       *authzv1.ResourceAttributes
			wantAllow bool
		}{
			{name: "reader get /metrics", ns: "default", sa: readerSA, nonRes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, wantAllow: true},
			{name: "reader post /metrics", ns: "default", sa: readerSA, nonRes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "post"}, wantAllow: false},
			{name: "reader get /debug/pprof/heap", ns: "default", sa: readerSA, nonRes: &authzv1.NonResourceAttributes{Path: "/debug/pprof/heap", Verb: "get"}, wantAllow: false},
			{name: "no role get /metrics", ns: "default", sa: "no-metrics-role", nonRes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, wantAllow: false},
			{name: "collector reads the secret", ns: "gmp-system", sa: "collector",
				res: &authzv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets", Name: readerSecret}, wantAllow: true},
			{name: "collector elsewhere", ns: "monitoring", sa: "collector",
				res: &authzv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets", Name: readerSecret}, wantAllow: false},
			{name: "collector reads another secret", ns: "gmp-system", sa: "collector",
				res: &authzv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets", Name: "no-metrics-role-token"}, wantAllow: false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				user, groups := sa(tc.ns, tc.sa)
				sar, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
					Spec: authzv1.SubjectAccessReviewSpec{
						User: user, Groups: groups,
						NonResourceAttributes: tc.nonRes, ResourceAttributes: tc.res,
					},
				}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if sar.Status.Allowed != tc.wantAllow {
					t.Fatalf("SubjectAccessReview allowed=%v (reason %q); want %v", sar.Status.Allowed, sar.Status.Reason, tc.wantAllow)
				}
			})
		}
	})

	// The API server guards its own /metrics with the same two reviews, so
	// the tokens give the answers infergate's guard must give.
	t.Run("API server /metrics with the tokens", func(t *testing.T) {
		tests := []struct {
			name  string
			token string
			want  int
		}{
			{name: "guide token", token: readerToken, want: http.StatusOK},
			{name: "no role", token: otherToken, want: http.StatusForbidden},
			{name: "garbage", token: "not-a-token", want: http.StatusUnauthorized},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				rc, err := rest.RESTClientFor(restConfigForRaw(cp.ConfigForToken(tc.token)))
				if err != nil {
					t.Fatal(err)
				}
				var code int
				res := rc.Get().AbsPath("/metrics").Do(ctx).StatusCode(&code)
				if code != tc.want {
					t.Fatalf("GET /metrics: status %d (err %v); want %d", code, res.Error(), tc.want)
				}
			})
		}
	})
}

// restConfigForRaw fills what rest.RESTClientFor needs for raw paths.
func restConfigForRaw(cfg *rest.Config) *rest.Config {
	cfg.NegotiatedSerializer = kubernetesScheme()
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.APIPath = "/api"
	return cfg
}

// waitForToken waits for the token controller to fill the
// service-account-token Secret name in default and returns the token.
func waitForToken(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	return waitForTokenIn(ctx, t, cs, metav1.NamespaceDefault, name)
}

func kubernetesScheme() runtime.NegotiatedSerializer {
	return scheme.Codecs.WithoutConversion()
}
