package doctor

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// TestDiagnoseSecret covers the secret states a control plane with a
// running token controller does not keep still: an empty token, a deleted
// or recreated ServiceAccount, an invalidated legacy token.
func TestDiagnoseSecret(t *testing.T) {
	t.Parallel()
	const token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
	src := SecretToken{Namespace: "default", Name: ReaderSecret}
	secret := func(typ corev1.SecretType, tok string, mutate ...func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: ReaderSecret, Namespace: "default", Annotations: map[string]string{
				corev1.ServiceAccountNameKey: ReaderServiceAccount,
				corev1.ServiceAccountUIDKey:  "uid-1",
			}},
			Type: typ,
			Data: map[string][]byte{},
		}
		if tok != "" {
			s.Data[corev1.ServiceAccountTokenKey] = []byte(tok)
		}
		for _, m := range mutate {
			m(s)
		}
		return s
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ReaderServiceAccount, Namespace: "default", UID: types.UID("uid-1")}}
	recreated := sa.DeepCopy()
	recreated.UID = "uid-2"
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, ReaderServiceAccount)
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, ReaderServiceAccount, errors.New("no"))

	tests := []struct {
		name       string
		secret     *corev1.Secret
		sa         *corev1.ServiceAccount
		saErr      error
		want       Verdict
		wantToken  string
		wantDetail []string
		wantFix    string
	}{
		{
			name: "filled by the token controller", secret: secret(corev1.SecretTypeServiceAccountToken, token), sa: sa,
			want: Pass, wantToken: token,
			wantDetail: []string{"token of ServiceAccount default/" + ReaderServiceAccount, "(38 characters)"},
		},
		{
			name: "empty, the ServiceAccount is missing", secret: secret(corev1.SecretTypeServiceAccountToken, ""), saErr: notFound,
			want:       Fail,
			wantDetail: []string{"holds no token", "ServiceAccount default/" + ReaderServiceAccount + ", named in its annotation kubernetes.io/service-account.name, does not exist"},
			wantFix:    "create ServiceAccount default/" + ReaderServiceAccount,
		},
		{
			name: "empty, the ServiceAccount exists", secret: secret(corev1.SecretTypeServiceAccountToken, ""), sa: sa,
			want: Fail, wantDetail: []string{"holds no token yet", "token controller"},
			wantFix: "kube-controller-manager",
		},
		{
			name: "empty, the ServiceAccount cannot be read", secret: secret(corev1.SecretTypeServiceAccountToken, ""), saErr: forbidden,
			want:       Fail,
			wantDetail: []string{"the token controller fills its token key", "an empty one means that ServiceAccount is missing"},
			wantFix:    "kubectl get serviceaccount " + ReaderServiceAccount + " -n default",
		},
		{
			name: "the ServiceAccount was deleted", secret: secret(corev1.SecretTypeServiceAccountToken, token), saErr: notFound,
			want: Fail, wantDetail: []string{"no longer exists"},
		},
		{
			name: "the ServiceAccount was recreated", secret: secret(corev1.SecretTypeServiceAccountToken, token), sa: recreated,
			want: Fail, wantDetail: []string{"earlier ServiceAccount default/" + ReaderServiceAccount + " (uid differs)"},
			wantFix: "delete the secret and apply it again",
		},
		{
			name: "invalidated as unused",
			secret: secret(corev1.SecretTypeServiceAccountToken, token, func(s *corev1.Secret) {
				s.Labels = map[string]string{legacyTokenInvalidSince: "2026-01-02"}
			}),
			sa: sa, want: Fail, wantDetail: []string{"invalidated as unused on 2026-01-02"},
		},
		{
			name: "no annotation",
			secret: secret(corev1.SecretTypeServiceAccountToken, token, func(s *corev1.Secret) {
				s.Annotations = nil
			}),
			want: Fail, wantDetail: []string{"has no annotation kubernetes.io/service-account.name"},
		},
		{
			name: "an Opaque copy of the token", secret: secret(corev1.SecretTypeOpaque, token),
			want: Warn, wantToken: token, wantDetail: []string{"has type Opaque"},
		},
		{
			name: "an Opaque secret without a token", secret: secret(corev1.SecretTypeOpaque, ""),
			want: Fail, wantDetail: []string{`has type Opaque and no "token" key`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := diagnoseSecret(src, tc.secret, tc.sa, tc.saErr)
			if res.verdict != tc.want || res.token != tc.wantToken {
				t.Errorf("verdict %v, token %q; want %v, %q (%s)", res.verdict, res.token, tc.want, tc.wantToken, res.detail)
			}
			for _, sub := range tc.wantDetail {
				if !strings.Contains(res.detail, sub) {
					t.Errorf("detail %q lacks %q", res.detail, sub)
				}
			}
			if !strings.Contains(res.fix, tc.wantFix) {
				t.Errorf("fix %q lacks %q", res.fix, tc.wantFix)
			}
			if res.verdict == Fail && (res.fix == "" || res.err == nil) {
				t.Errorf("failure without fix or error: %+v", res)
			}
			if strings.Contains(res.detail+res.fix, token) {
				t.Error("the token is printed")
			}
		})
	}
}

func TestSecretTokenWithoutCluster(t *testing.T) {
	t.Parallel()
	_, err := SecretToken{Name: ReaderSecret}.Token(t.Context())
	if !errors.Is(err, ErrNeedsKubernetes) {
		t.Fatalf("Token() error = %v, want ErrNeedsKubernetes", err)
	}
}
