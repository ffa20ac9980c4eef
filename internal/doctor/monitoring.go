package doctor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kinds of Google Cloud Managed Service for Prometheus that select pods.
const (
	kindClusterPodMonitoring = "ClusterPodMonitoring"
	kindPodMonitoring        = "PodMonitoring"
)

// gmpResource returns the resource of a monitoring.googleapis.com/v1 kind.
func gmpResource(plural string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "monitoring.googleapis.com", Version: "v1", Resource: plural}
}

// monitor is one ClusterPodMonitoring or PodMonitoring.
type monitor struct {
	kind, namespace, name string
	selector              labels.Selector
	// ports are the endpoints' ports (names or numbers).
	ports []string
	// secrets are the endpoints' token secrets as "namespace/name"; "" for
	// an endpoint without authorization.
	secrets []string
}

// String names the object for messages.
func (m monitor) String() string {
	if m.kind == kindPodMonitoring {
		return m.kind + " " + m.namespace + "/" + m.name
	}
	return m.kind + " " + m.name
}

// target is a pod, or the labels a pod must have, to match monitors against.
type target struct {
	namespace string
	labels    labels.Set
	ports     []string
}

// checkMonitoring looks for a ClusterPodMonitoring or PodMonitoring that
// selects the gateway's pods. src is the token secret, nil when none was
// given.
func (r *Report) checkMonitoring(ctx context.Context, k *kube, set *podSet, src *SecretToken) {
	if set == nil {
		r.add(CheckMonitoring, Skip, "needs a valid --selector", "")
		return
	}
	cpms, err := k.dyn.Resource(gmpResource("clusterpodmonitorings")).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		r.add(CheckMonitoring, Warn, "the monitoring.googleapis.com API is not served: Google Cloud Managed Service for Prometheus is not installed, or managed collection is off",
			"on GKE enable managed collection (gcloud container clusters update CLUSTER --enable-managed-prometheus); elsewhere scrape with your own Prometheus (deploy/monitoring/prometheus-scrape-config.yaml)")
		return
	}
	if err != nil {
		r.couldNotCheck(CheckMonitoring, k, "list clusterpodmonitorings", err)
		return
	}
	pmNamespace := k.namespace
	if set.all {
		pmNamespace = metav1.NamespaceAll
	}
	pms, err := k.dyn.Resource(gmpResource("podmonitorings")).Namespace(pmNamespace).List(ctx, metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		r.couldNotCheck(CheckMonitoring, k, "list podmonitorings", err)
		return
	}
	var objs []unstructured.Unstructured
	objs = append(objs, cpms.Items...)
	if pms != nil {
		objs = append(objs, pms.Items...)
	}

	targets := podTargets(set, k.namespace)
	var matched []monitor
	var invalid []string
	for i := range objs {
		m, err := parseMonitor(&objs[i])
		if err != nil {
			invalid = append(invalid, err.Error())
			continue
		}
		if m.selects(targets) {
			matched = append(matched, m)
		}
	}
	if len(matched) == 0 {
		detail := fmt.Sprintf("no ClusterPodMonitoring or PodMonitoring selects the pods labelled %s (%d objects looked at)", set.selector, len(objs))
		if len(invalid) > 0 {
			detail += "; unreadable: " + oneLine(names(invalid))
		}
		r.add(CheckMonitoring, Fail, detail+": Managed Prometheus does not scrape the gateway",
			"kubectl apply -f deploy/monitoring/clusterpodmonitoring.yaml (or podmonitoring.yaml in the pods' namespace)")
		return
	}
	r.judgeMonitors(matched, targets, src)
}

// judgeMonitors reports the monitors that select the pods.
func (r *Report) judgeMonitors(matched []monitor, targets []target, src *SecretToken) {
	var found []string
	kinds := map[string]bool{}
	for _, m := range matched {
		kinds[m.kind] = true
		desc := m.String() + " (port " + strings.Join(m.ports, ", ")
		if secrets := slices.DeleteFunc(slices.Clone(m.secrets), func(s string) bool { return s == "" }); len(secrets) > 0 {
			desc += ", secret " + strings.Join(secrets, ", ")
		}
		found = append(found, desc+")")
	}
	detail := "selected by " + names(found)

	for _, m := range matched {
		for _, port := range m.ports {
			if !portKnown(port, targets) {
				r.add(CheckMonitoring, Fail, detail+"; but "+m.String()+" scrapes port "+port+", which the pods do not name",
					"set the endpoint's port to "+MetricsPortName+", the name of the gateway's metrics port")
				return
			}
		}
	}
	for _, m := range matched {
		if slices.Contains(m.secrets, "") {
			r.add(CheckMonitoring, Warn, detail+"; "+m.String()+" scrapes without a bearer token",
				"add authorization.credentials.secret (name "+ReaderSecret+", key token) to its endpoint, unless the gateway's metrics.auth is off")
			return
		}
	}
	if src != nil {
		want := src.Namespace + "/" + src.Name
		for _, m := range matched {
			if !slices.Contains(m.secrets, want) {
				r.add(CheckMonitoring, Warn, detail+"; "+m.String()+" does not send secret "+want+": the token and RBAC checks above looked at another secret",
					"rerun with --token-secret NAMESPACE/NAME of the secret it sends")
				return
			}
		}
	}
	if kinds[kindClusterPodMonitoring] && kinds[kindPodMonitoring] {
		r.add(CheckMonitoring, Warn, detail+": both kinds select the pods, so every series is scraped twice",
			"keep either the ClusterPodMonitoring or the PodMonitoring")
		return
	}
	r.add(CheckMonitoring, Pass, detail, "")
}

// podTargets returns the pods to match monitors against; without pods, the
// labels the selector requires, in namespace ns.
func podTargets(set *podSet, ns string) []target {
	if len(set.pods) == 0 {
		l, ok := selectorLabels(set.selector)
		if !ok {
			return nil
		}
		if set.all {
			ns = ""
		}
		return []target{{namespace: ns, labels: l, ports: []string{MetricsPortName}}}
	}
	out := make([]target, 0, len(set.pods))
	for _, p := range set.pods {
		t := target{namespace: p.Namespace, labels: labels.Set(p.Labels)}
		for _, c := range p.Spec.Containers {
			for _, port := range c.Ports {
				if port.Name != "" {
					t.ports = append(t.ports, port.Name)
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// selects reports whether m selects any target. A PodMonitoring selects
// only pods in its namespace; a target without a namespace is anywhere.
func (m monitor) selects(targets []target) bool {
	return slices.ContainsFunc(targets, func(t target) bool {
		if m.kind == kindPodMonitoring && t.namespace != "" && t.namespace != m.namespace {
			return false
		}
		return m.selector.Matches(t.labels)
	})
}

// portKnown reports whether port (a name or number) is a port of the
// targets: numbers always are.
func portKnown(port string, targets []target) bool {
	if _, err := strconv.Atoi(port); err == nil {
		return true
	}
	return slices.ContainsFunc(targets, func(t target) bool { return slices.Contains(t.ports, port) })
}

// parseMonitor reads the fields the check needs.
func parseMonitor(u *unstructured.Unstructured) (monitor, error) {
	m := monitor{kind: u.GetKind(), namespace: u.GetNamespace(), name: u.GetName()}
	raw, _, err := unstructured.NestedMap(u.Object, "spec", "selector")
	if err != nil {
		return m, fmt.Errorf("%s: spec.selector: %w", m, err)
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return m, fmt.Errorf("%s: spec.selector: %w", m, err)
	}
	if m.selector, err = metav1.LabelSelectorAsSelector(&ls); err != nil {
		return m, fmt.Errorf("%s: spec.selector: %w", m, err)
	}
	endpoints, _, err := unstructured.NestedSlice(u.Object, "spec", "endpoints")
	if err != nil {
		return m, fmt.Errorf("%s: spec.endpoints: %w", m, err)
	}
	for _, e := range endpoints {
		ep, ok := e.(map[string]any)
		if !ok {
			continue
		}
		m.ports = append(m.ports, fmt.Sprint(ep["port"]))
		name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "secret", "name")
		if name == "" {
			m.secrets = append(m.secrets, "")
			continue
		}
		ns, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "secret", "namespace")
		switch {
		case m.kind == kindPodMonitoring:
			ns = m.namespace
		case ns == "":
			ns = metav1.NamespaceDefault
		}
		m.secrets = append(m.secrets, ns+"/"+name)
	}
	return m, nil
}
