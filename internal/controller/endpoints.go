package controller

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/pool"
)

// EngineAnnotation names the model-server software of a pool's endpoints:
// "vllm" (the default), "sglang" or "trtllm" (see [config.Endpoint]). It is
// read from the Pod first, then from the InferencePool, so a pool can set
// it for all its Pods and a Pod can override it. Other values are ignored.
const EngineAnnotation = "infergate.dev/engine"

// Pod keys of upstream's endpoint picker that infergate reads too; see
// [podEngine] and [activePorts] for the order they are consulted in.
const (
	// EngineTypeLabel is llm-d router v0.10's Pod label naming the engine
	// (vllm, sglang, trtllm-serve).
	EngineTypeLabel = "llm-d.ai/engine-type"
	// EngineTypeLabelGIE is its older GIE spelling.
	EngineTypeLabelGIE = "inference.networking.k8s.io/engine-type"
	// ActivePortsAnnotation lists, comma-separated, the target ports of a
	// Pod that serve (data-parallel ranks); the others get no endpoint.
	ActivePortsAnnotation = "llm-d.ai/active-ports"
	// ActivePortsAnnotationGIE is its older GIE spelling.
	ActivePortsAnnotationGIE = "inference.networking.k8s.io/active-ports"
)

// poolEndpoints returns the endpoints of pool among pods (sorted by name):
// for every member Pod that is ready, has an IP and is not being deleted,
// one endpoint per active target port (see [activePorts]), named
// "<pod>-rank-<i>" after the port's index i as upstream names data-parallel
// ranks. A pool without matchLabels selects no Pod.
func poolEndpoints(pool *v1.InferencePool, pods []corev1.Pod) (eps []config.Endpoint, notes []string) {
	sel := pool.Spec.Selector.MatchLabels
	if len(sel) == 0 || len(pool.Spec.TargetPorts) == 0 {
		return nil, nil
	}
	poolEngine, ok := engine(pool.Annotations)
	if !ok {
		notes = append(notes, fmt.Sprintf("InferencePool %s: ignoring annotation %s=%q", pool.Name, EngineAnnotation, pool.Annotations[EngineAnnotation]))
	}
	if poolEngine == "" {
		poolEngine = config.EngineVLLM
	}
	for i := range pods {
		pod := &pods[i]
		if !selects(sel, pod.Labels) || !podReady(pod) {
			continue
		}
		eng, engNotes := podEngine(pod)
		notes = append(notes, engNotes...)
		if eng == "" {
			eng = poolEngine
		}
		active, key := activePorts(pod)
		for rank, port := range pool.Spec.TargetPorts {
			if active != nil && !active[int(port.Number)] {
				continue
			}
			eps = append(eps, config.Endpoint{
				Name:    pod.Name + "-rank-" + strconv.Itoa(rank),
				Address: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port.Number))),
				Engine:  eng,
			})
		}
		if active != nil && len(active) == 0 {
			notes = append(notes, fmt.Sprintf("Pod %s: annotation %s=%q names no port; the Pod serves none", pod.Name, key, pod.Annotations[key]))
		}
	}
	return eps, notes
}

// podEngine returns the engine a Pod names, "" when it names none, looking
// at, in order: the label [EngineTypeLabel] (llm-d), the label
// [EngineTypeLabelGIE], the annotation [EngineAnnotation] (infergate). The
// first key set to a known engine wins; a key holding an unknown one is
// skipped with a note. Upstream's trtllm-serve means trtllm.
func podEngine(pod *corev1.Pod) (string, []string) {
	var notes []string
	for _, k := range []struct {
		key   string
		value string
		set   bool
	}{
		{EngineTypeLabel, pod.Labels[EngineTypeLabel], hasKey(pod.Labels, EngineTypeLabel)},
		{EngineTypeLabelGIE, pod.Labels[EngineTypeLabelGIE], hasKey(pod.Labels, EngineTypeLabelGIE)},
		{EngineAnnotation, pod.Annotations[EngineAnnotation], hasKey(pod.Annotations, EngineAnnotation)},
	} {
		if !k.set {
			continue
		}
		v := k.value
		if v == "trtllm-serve" {
			v = string(pool.EngineTRTLLM)
		}
		if pool.Engine(v).Valid() {
			return v, notes
		}
		notes = append(notes, fmt.Sprintf("Pod %s: ignoring %s=%q", pod.Name, k.key, k.value))
	}
	return "", notes
}

// hasKey reports whether m has key k.
func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// activePorts returns the ports a Pod's active-ports annotation lists, and
// the annotation's key: [ActivePortsAnnotation] first, then
// [ActivePortsAnnotationGIE]. nil means no annotation: every target port
// serves. As upstream, entries that are not positive port numbers are
// ignored, and target ports not listed get no endpoint.
func activePorts(pod *corev1.Pod) (map[int]bool, string) {
	for _, key := range []string{ActivePortsAnnotation, ActivePortsAnnotationGIE} {
		v, ok := pod.Annotations[key]
		if !ok {
			continue
		}
		ports := map[int]bool{}
		for f := range strings.SplitSeq(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 && n <= 65535 {
				ports[n] = true
			}
		}
		return ports, key
	}
	return nil, ""
}

// selects reports whether podLabels contain every entry of sel.
func selects(sel map[v1.LabelKey]v1.LabelValue, podLabels map[string]string) bool {
	for k, v := range sel {
		got, ok := podLabels[string(k)]
		if !ok || got != string(v) {
			return false
		}
	}
	return true
}

// podReady reports whether pod can take traffic: condition Ready is True,
// it has an IP and it is not being deleted.
func podReady(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// engine returns the engine named by annotations ("" when unset) and false
// when the annotation holds an unknown engine.
func engine(annotations map[string]string) (string, bool) {
	v, set := annotations[EngineAnnotation]
	switch {
	case !set:
		return "", true
	case pool.Engine(v).Valid():
		return v, true
	default:
		return "", false
	}
}
