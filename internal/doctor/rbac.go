package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RBAC objects of Google's guide (deploy/rbac/metrics-reader.yaml).
const (
	// ReaderClusterRoleBinding binds [ReaderClusterRole] to
	// [ReaderServiceAccount].
	ReaderClusterRoleBinding = "inference-gateway-sa-metrics-reader-role-binding"
	// SecretReadClusterRole allows get, list and watch on [ReaderSecret].
	SecretReadClusterRole = "inference-gateway-sa-metrics-reader-secret-read"
)

// secretReadBinding is the guide's name of the ClusterRoleBinding that
// binds [SecretReadClusterRole] to the collector.
func secretReadBinding(collector account) string {
	return collector.namespace + ":" + collector.name + ":" + SecretReadClusterRole
}

// account is a ServiceAccount.
type account struct{ namespace, name string }

// parseAccount parses "namespace:name".
func parseAccount(s string) (account, error) {
	ns, name, ok := strings.Cut(s, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return account{}, fmt.Errorf("invalid ServiceAccount %q: want NAMESPACE:NAME", s)
	}
	return account{namespace: ns, name: name}, nil
}

// String names the account for messages.
func (a account) String() string { return "ServiceAccount " + a.namespace + "/" + a.name }

// user is the account's user name in authorization requests.
func (a account) user() string { return "system:serviceaccount:" + a.namespace + ":" + a.name }

// groups are the groups the API server puts every ServiceAccount in.
func (a account) groups() []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + a.namespace, "system:authenticated"}
}

// review asks the API server whether a may do what spec's attributes say.
func (k *kube) review(ctx context.Context, a account, spec authzv1.SubjectAccessReviewSpec) (bool, string, error) {
	spec.User, spec.Groups = a.user(), a.groups()
	sar, err := k.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	reason := sar.Status.Reason
	if sar.Status.EvaluationError != "" {
		reason = strings.TrimSpace(reason + " " + sar.Status.EvaluationError)
	}
	return sar.Status.Allowed, oneLine(reason), nil
}

// couldNotCheck reports a check whose API request failed; what is the
// request ("list pods in namespace x").
func (r *Report) couldNotCheck(name string, k *kube, what string, err error) {
	if apierrors.IsForbidden(err) {
		who := k.user
		if who == "" {
			who = "the doctor's credentials"
		}
		r.add(name, Warn, "could not check: "+who+" may not "+what,
			"run the doctor as a user who may "+what+" (e.g. a cluster admin), or check by hand")
		return
	}
	r.add(name, Warn, "could not check: "+oneLine(err.Error()), "check the cluster check above and retry")
}

// checkMetricsRBAC asks whether the secret's ServiceAccount may GET
// /metrics: the question a gateway that authorizes scrapes with
// SubjectAccessReview (like upstream's endpoint picker) asks.
func (r *Report) checkMetricsRBAC(ctx context.Context, k *kube, sec *secretResult) {
	if sec == nil || sec.saName == "" {
		r.add(CheckMetricsRBAC, Skip, "needs --token-secret naming a service-account-token secret: its ServiceAccount is the one checked", "")
		return
	}
	sa := account{namespace: sec.saNamespace, name: sec.saName}
	allowed, reason, err := k.review(ctx, sa, authzv1.SubjectAccessReviewSpec{
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
	})
	if err != nil {
		r.couldNotCheck(CheckMetricsRBAC, k, "create subjectaccessreviews", err)
		return
	}
	if allowed {
		r.add(CheckMetricsRBAC, Pass, sa.String()+" may GET /metrics", "")
		return
	}
	why := k.whyDenied(ctx, ReaderClusterRole, ReaderClusterRoleBinding, sa, "get on /metrics", grantsMetrics)
	r.add(CheckMetricsRBAC, Fail, sa.String()+" may not GET /metrics"+parenthesized(reason)+", so a gateway that checks RBAC answers its scrapes with 403"+why,
		"create ClusterRole "+ReaderClusterRole+` (nonResourceURLs ["/metrics"], verbs ["get"]) and ClusterRoleBinding `+
			ReaderClusterRoleBinding+" binding it to "+sa.String()+" (deploy/rbac/metrics-reader.yaml)")
}

// checkSecretRBAC asks whether the Managed Prometheus collector may read
// the token secret: it reads the secret through the API server at every
// scrape configuration load.
func (r *Report) checkSecretRBAC(ctx context.Context, k *kube, c Cluster, src *SecretToken, sec *secretResult) {
	if src == nil || sec == nil || !sec.found {
		r.add(CheckSecretRBAC, Skip, "needs the token secret (--token-secret) to exist", "")
		return
	}
	collector, err := parseAccount(c.Collector)
	if err != nil {
		r.add(CheckSecretRBAC, Fail, oneLine(err.Error()), "pass --collector NAMESPACE:NAME, e.g. "+DefaultCollector+" (Autopilot: "+AutopilotCollector+")")
		return
	}
	allowed, reason, err := k.review(ctx, collector, authzv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: src.Namespace, Verb: "get", Resource: "secrets", Name: src.Name},
	})
	if err != nil {
		r.couldNotCheck(CheckSecretRBAC, k, "create subjectaccessreviews", err)
		return
	}
	missing := ""
	if _, err := k.cs.CoreV1().ServiceAccounts(collector.namespace).Get(ctx, collector.name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		missing = "; " + collector.String() + " does not exist: Managed Prometheus is not installed here, or runs elsewhere (Autopilot: --collector " + AutopilotCollector + ")"
	}
	if allowed {
		v, fix := Pass, ""
		if missing != "" {
			v, fix = Warn, "enable managed collection, or pass the collector's ServiceAccount with --collector"
		}
		r.add(CheckSecretRBAC, v, collector.String()+" may read "+src.String()+missing, fix)
		return
	}
	binding := secretReadBinding(collector)
	why := k.whyDenied(ctx, SecretReadClusterRole, binding, collector, "get on secret "+src.Name, grantsSecret(src.Name))
	r.add(CheckSecretRBAC, Fail, collector.String()+" may not read "+src.String()+parenthesized(reason)+", so the collector cannot send the token"+why+missing,
		"create ClusterRole "+SecretReadClusterRole+` (secrets: get, list, watch; resourceNames ["`+src.Name+`"]) and ClusterRoleBinding `+
			binding+" binding it to "+collector.String()+" (deploy/rbac/metrics-reader.yaml), or a Role and RoleBinding in namespace "+src.Namespace)
}

// whyDenied looks at the guide's ClusterRole and ClusterRoleBinding and
// says which is missing or wrong; "" when it cannot tell.
func (k *kube) whyDenied(ctx context.Context, role, binding string, sa account, what string, grants func(rbacv1.PolicyRule) bool) string {
	var problems []string
	readable := true
	cr, err := k.cs.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		problems = append(problems, "ClusterRole "+role+" is missing")
	case err != nil:
		readable = false
	case !slices.ContainsFunc(cr.Rules, grants):
		problems = append(problems, "ClusterRole "+role+" does not grant "+what)
	}
	crb, err := k.cs.RbacV1().ClusterRoleBindings().Get(ctx, binding, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		problems = append(problems, "ClusterRoleBinding "+binding+" is missing")
	case err != nil:
		readable = false
	case crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != role:
		problems = append(problems, fmt.Sprintf("ClusterRoleBinding %s refers to %s %s, not ClusterRole %s", binding, crb.RoleRef.Kind, crb.RoleRef.Name, role))
	case !slices.ContainsFunc(crb.Subjects, func(s rbacv1.Subject) bool {
		return s.Kind == rbacv1.ServiceAccountKind && s.Name == sa.name && s.Namespace == sa.namespace
	}):
		problems = append(problems, "ClusterRoleBinding "+binding+" does not bind "+sa.String())
	}
	switch {
	case len(problems) > 0:
		return ": " + strings.Join(problems, "; ")
	case readable:
		return ": ClusterRole " + role + " and ClusterRoleBinding " + binding + " look right; if you just changed them, rerun"
	}
	return ""
}

// grantsMetrics reports whether rule allows get on /metrics.
func grantsMetrics(rule rbacv1.PolicyRule) bool {
	return hasAny(rule.Verbs, "get", "*") && slices.ContainsFunc(rule.NonResourceURLs, func(u string) bool {
		return u == "/metrics" || (strings.HasSuffix(u, "*") && strings.HasPrefix("/metrics", strings.TrimSuffix(u, "*")))
	})
}

// grantsSecret returns a rule test: does the rule allow get on secret name?
func grantsSecret(name string) func(rbacv1.PolicyRule) bool {
	return func(rule rbacv1.PolicyRule) bool {
		return hasAny(rule.Verbs, "get", "*") && hasAny(rule.APIGroups, "", "*") && hasAny(rule.Resources, "secrets", "*") &&
			(len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, name))
	}
}

// hasAny reports whether list holds any of want.
func hasAny(list []string, want ...string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return slices.Contains(want, s) })
}

// parenthesized returns " (s)", or "" for an empty s.
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
