package doctor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// legacyTokenInvalidSince is the label kube-controller-manager's legacy
// token cleaner puts on an unused service-account-token Secret when it
// invalidates the token.
const legacyTokenInvalidSince = "kubernetes.io/legacy-token-invalid-since"

// SecretReader reads Secrets and ServiceAccounts; the CoreV1() of a
// client-go clientset is one.
type SecretReader interface {
	corev1client.SecretsGetter
	corev1client.ServiceAccountsGetter
}

// SecretToken reads the token from a Kubernetes Secret: the
// ServiceAccount token Secret of Google's guide,
// inference-gateway-sa-metrics-reader-secret, whose `token` key the token
// controller fills with a token of the ServiceAccount named in its
// kubernetes.io/service-account.name annotation.
type SecretToken struct {
	// Namespace and Name locate the secret; an empty Namespace means the
	// cluster's namespace in [Run] ([Cluster.Namespace]), "default"
	// elsewhere.
	Namespace, Name string
	// Client reads the secret; nil means the connection of [Run]'s
	// [Options.Cluster]. Token fails with [ErrNeedsKubernetes] when there
	// is neither.
	Client SecretReader
}

// String implements [TokenSource].
func (s SecretToken) String() string {
	if s.Namespace == "" {
		return "secret " + s.Name
	}
	return "secret " + s.Namespace + "/" + s.Name
}

// Token implements [TokenSource]: it reads the secret and returns its
// token, or an error that says what is wrong with the secret.
func (s SecretToken) Token(ctx context.Context) (string, error) {
	res := s.inspect(ctx)
	if res.verdict == Fail {
		return "", res.err
	}
	return res.token, nil
}

// secretResult is what inspecting a token secret found.
type secretResult struct {
	// token is the bearer token; "" when there is none.
	token string
	// found reports whether the secret exists.
	found bool
	// saNamespace and saName name the ServiceAccount of the secret's
	// annotation; saName is "" when there is none.
	saNamespace, saName string
	// verdict, detail and fix are the token check's line.
	verdict     Verdict
	detail, fix string
	// err is set for Fail.
	err error
}

// fail returns a failed result; err's message, the detail, must be one
// line with untrusted parts passed through oneLine.
func (res secretResult) fail(err error, fix string) secretResult {
	res.verdict, res.err, res.detail, res.fix = Fail, err, err.Error(), fix
	return res
}

// inspect reads the secret and its ServiceAccount and diagnoses them.
func (s SecretToken) inspect(ctx context.Context) secretResult {
	if s.Namespace == "" {
		s.Namespace = metav1.NamespaceDefault
	}
	if s.Client == nil {
		return secretResult{}.fail(fmt.Errorf("cannot read %s: %w", s, ErrNeedsKubernetes),
			"give the doctor cluster access (--kubeconfig), or save the token with "+kubectlToken(s)+" and pass --token-file token")
	}
	sec, err := s.Client.Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return secretGetProblem(s, err)
	}
	var (
		sa    *corev1.ServiceAccount
		saErr error
	)
	if name := sec.Annotations[corev1.ServiceAccountNameKey]; name != "" {
		sa, saErr = s.Client.ServiceAccounts(s.Namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return diagnoseSecret(s, sec, sa, saErr)
}

// secretGetProblem explains a failed read of the secret.
func secretGetProblem(s SecretToken, err error) secretResult {
	switch {
	case apierrors.IsNotFound(err):
		return secretResult{}.fail(fmt.Errorf("%s not found", s),
			"create it (deploy/rbac/metrics-reader.yaml: Secret "+ReaderSecret+" of type "+string(corev1.SecretTypeServiceAccountToken)+
				" annotated "+corev1.ServiceAccountNameKey+": "+ReaderServiceAccount+"), or name the right one with --namespace / --token-secret NAMESPACE/NAME")
	case apierrors.IsForbidden(err):
		return secretResult{}.fail(fmt.Errorf("not allowed to read %s: %s", s, oneLine(err.Error())),
			"use credentials that may get secrets in namespace "+s.Namespace+", or save the token with "+kubectlToken(s)+" and pass --token-file token")
	}
	return secretResult{}.fail(fmt.Errorf("cannot read %s: %s", s, oneLine(err.Error())), "check the cluster check above and retry")
}

// diagnoseSecret checks the secret's type, annotation and token; sa and
// saErr are the lookup of the annotation's ServiceAccount (both nil when
// the annotation is absent).
func diagnoseSecret(s SecretToken, sec *corev1.Secret, sa *corev1.ServiceAccount, saErr error) secretResult {
	res := secretResult{found: true, saNamespace: sec.Namespace}
	if res.saNamespace == "" {
		res.saNamespace = s.Namespace
	}
	res.saName = sec.Annotations[corev1.ServiceAccountNameKey]
	saRef := "ServiceAccount " + res.saNamespace + "/" + res.saName
	token := string(sec.Data[corev1.ServiceAccountTokenKey])

	if sec.Type != corev1.SecretTypeServiceAccountToken {
		if token == "" {
			return res.fail(fmt.Errorf("%s has type %s and no %q key", s, oneLine(string(sec.Type)), corev1.ServiceAccountTokenKey),
				"recreate it with type "+string(corev1.SecretTypeServiceAccountToken)+" and annotation "+
					corev1.ServiceAccountNameKey+": "+ReaderServiceAccount+"; the token controller then fills its token key")
		}
		res.token, res.verdict = token, Warn
		res.detail = fmt.Sprintf("%s has type %s, not %s: using its token key (%d characters), which no controller keeps valid",
			s, oneLine(string(sec.Type)), corev1.SecretTypeServiceAccountToken, len(token))
		res.fix = "use a Secret of type " + string(corev1.SecretTypeServiceAccountToken) + " annotated " +
			corev1.ServiceAccountNameKey + ": " + ReaderServiceAccount + " (deploy/rbac/metrics-reader.yaml)"
		return res
	}
	if res.saName == "" {
		return res.fail(fmt.Errorf("%s has no annotation %s", s, corev1.ServiceAccountNameKey),
			"annotate it with "+corev1.ServiceAccountNameKey+": "+ReaderServiceAccount+" so the token controller fills it")
	}
	saMissing := apierrors.IsNotFound(saErr)
	if token == "" {
		switch {
		case saMissing:
			return res.fail(fmt.Errorf("%s holds no token: %s, named in its annotation %s, does not exist, so the token controller cannot fill it",
				s, saRef, corev1.ServiceAccountNameKey),
				"create "+saRef+" (deploy/rbac/metrics-reader.yaml), or fix the annotation")
		case saErr == nil:
			return res.fail(fmt.Errorf("%s holds no token yet: the token controller of kube-controller-manager fills it for %s", s, saRef),
				"rerun in a few seconds; if it stays empty, check that kube-controller-manager runs its serviceaccount-token controller")
		}
		return res.fail(fmt.Errorf("%s holds no token: the token controller fills its token key for the ServiceAccount named in annotation %s (%s); an empty one means that ServiceAccount is missing",
			s, corev1.ServiceAccountNameKey, res.saName),
			"check that "+saRef+" exists (kubectl get serviceaccount "+res.saName+" -n "+res.saNamespace+") and create it if not")
	}
	if since := sec.Labels[legacyTokenInvalidSince]; since != "" {
		return res.fail(fmt.Errorf("%s: its token was invalidated as unused on %s (label %s)", s, oneLine(since), legacyTokenInvalidSince),
			"delete the label "+legacyTokenInvalidSince+" from the secret, or delete and re-create the secret")
	}
	switch {
	case saMissing:
		return res.fail(fmt.Errorf("%s holds a token of %s, which no longer exists: the API server rejects it", s, saRef),
			"re-create "+saRef+" and then the secret (deploy/rbac/metrics-reader.yaml)")
	case saErr == nil && sa != nil && sec.Annotations[corev1.ServiceAccountUIDKey] != "" &&
		sec.Annotations[corev1.ServiceAccountUIDKey] != string(sa.UID):
		return res.fail(fmt.Errorf("%s holds a token of an earlier %s (uid differs): the API server rejects it", s, saRef),
			"delete the secret and apply it again; the token controller issues a token for the current ServiceAccount")
	}
	res.token, res.verdict = token, Pass
	res.detail = fmt.Sprintf("read from %s: token of %s (%d characters)", s, saRef, len(token))
	return res
}

// kubectlToken is the command that saves the secret's token to a file.
func kubectlToken(s SecretToken) string {
	ns := s.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return "kubectl get secret " + s.Name + " -n " + ns + " -o jsonpath='{.data.token}' | base64 -d > token"
}
