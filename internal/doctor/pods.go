package doctor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// maxNames bounds the names a check lists.
const maxNames = 5

// podSet is what the pods check found.
type podSet struct {
	// selector selects the gateway's pods.
	selector labels.Selector
	// pods matched the selector.
	pods []corev1.Pod
	// where is "namespace NS" or "any namespace".
	where string
	// all reports whether pods were looked for in every namespace.
	all bool
	// listed reports whether the pods could be listed.
	listed bool
}

// checkPods looks for the gateway's pods and whether they are Ready; it
// returns nil when the selector is invalid.
func (r *Report) checkPods(ctx context.Context, k *kube, c Cluster) *podSet {
	sel, err := labels.Parse(c.Selector)
	if err != nil {
		r.add(CheckPods, Fail, fmt.Sprintf("invalid selector %q: %s", c.Selector, oneLine(err.Error())),
			"give --selector as KEY=VALUE[,KEY=VALUE], e.g. "+DefaultSelector)
		return nil
	}
	set := &podSet{selector: sel, where: "namespace " + k.namespace, all: c.AllNamespaces}
	ns := k.namespace
	if c.AllNamespaces {
		ns, set.where = metav1.NamespaceAll, "any namespace"
	}
	list, err := k.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		r.couldNotCheck(CheckPods, k, "list pods in "+set.where, err)
		return set
	}
	set.pods, set.listed = list.Items, true
	slices.SortFunc(set.pods, func(a, b corev1.Pod) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	if len(set.pods) == 0 {
		fix := "label the gateway's pod template " + selectorYAML(sel) + " (the monitoring objects select pods by it)"
		if !c.AllNamespaces {
			fix += ", or look elsewhere with --namespace NS or --all-namespaces"
		}
		r.add(CheckPods, Fail, "no pods labelled "+sel.String()+" in "+set.where, fix+"; --selector changes the label")
		return set
	}
	var ready, notReady []string
	first := ""
	for _, p := range set.pods {
		if ok, why := podReady(p); ok {
			ready = append(ready, set.name(p))
		} else {
			notReady = append(notReady, set.name(p)+" ("+why+")")
			if first == "" {
				first = p.Name + " -n " + p.Namespace
			}
		}
	}
	if len(notReady) > 0 {
		r.add(CheckPods, Fail, fmt.Sprintf("%d of %d pods labelled %s not Ready: %s", len(notReady), len(set.pods), sel, names(notReady)),
			"kubectl describe pod "+first+": look at its events, its readiness probe (/readyz on the metrics port) and its log; Managed Prometheus skips pods that are not running")
		return set
	}
	r.add(CheckPods, Pass, fmt.Sprintf("%d pods labelled %s Ready in %s: %s", len(ready), sel, set.where, names(ready)), "")
	return set
}

// checkMetricsPort reports the pods without a container port named
// [MetricsPortName]: the monitoring objects select the port by name.
func (r *Report) checkMetricsPort(set *podSet) {
	if set == nil || len(set.pods) == 0 {
		r.add(CheckMetricsPort, Skip, "needs the gateway's pods", "")
		return
	}
	var missing []string
	var ports []int32
	for _, p := range set.pods {
		port, ok := metricsPort(p)
		if !ok {
			missing = append(missing, set.name(p))
			continue
		}
		if !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	if len(missing) > 0 {
		r.add(CheckMetricsPort, Fail, fmt.Sprintf("%d of %d pods have no container port named %s: %s", len(missing), len(set.pods), MetricsPortName, names(missing)),
			"name the gateway container's metrics port: ports: [{name: "+MetricsPortName+", containerPort: 9090}]; ClusterPodMonitoring and PodMonitoring scrape only the port of that name")
		return
	}
	nums := make([]string, len(ports))
	for i, p := range ports {
		nums[i] = strconv.Itoa(int(p))
	}
	r.add(CheckMetricsPort, Pass, fmt.Sprintf("every pod has port %s (%s)", MetricsPortName, strings.Join(nums, ", ")), "")
}

// name returns the pod's name for messages, with its namespace when pods
// were looked for in every namespace.
func (s *podSet) name(p corev1.Pod) string {
	if s.all {
		return p.Namespace + "/" + p.Name
	}
	return p.Name
}

// podReady reports whether p is running and Ready, and why not.
func podReady(p corev1.Pod) (bool, string) {
	if p.DeletionTimestamp != nil {
		return false, "terminating"
	}
	if p.Status.Phase != corev1.PodRunning {
		phase := string(p.Status.Phase)
		if phase == "" {
			phase = "unknown"
		}
		return false, "phase " + phase
	}
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			return true, ""
		}
		if c.Reason != "" {
			return false, "not Ready: " + oneLine(c.Reason)
		}
		return false, "not Ready"
	}
	return false, "no Ready condition"
}

// metricsPort returns the number of p's container port named
// [MetricsPortName].
func metricsPort(p corev1.Pod) (int32, bool) {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == MetricsPortName {
				return port.ContainerPort, true
			}
		}
	}
	return 0, false
}

// names lists up to maxNames names, then how many more there are.
func names(list []string) string {
	if len(list) <= maxNames {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:maxNames], ", "), len(list)-maxNames)
}

// selectorYAML renders the equality requirements of sel as YAML labels
// ("app: x"), or the selector itself when it has others.
func selectorYAML(sel labels.Selector) string {
	set, ok := selectorLabels(sel)
	if !ok || len(set) == 0 {
		return sel.String()
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + set[k]
	}
	return strings.Join(parts, ", ")
}

// selectorLabels returns the labels a pod must carry to match sel, when
// sel only has equality requirements.
func selectorLabels(sel labels.Selector) (labels.Set, bool) {
	reqs, _ := sel.Requirements()
	set := labels.Set{}
	for _, r := range reqs {
		vals := r.Values().UnsortedList()
		switch {
		case len(vals) != 1:
			return nil, false
		case r.Operator() == selection.Equals, r.Operator() == selection.DoubleEquals, r.Operator() == selection.In:
			set[r.Key()] = vals[0]
		default:
			return nil, false
		}
	}
	return set, true
}
