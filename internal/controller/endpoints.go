package controller

import (
	"fmt"
	"net"
	"strconv"

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

// poolEndpoints returns the endpoints of pool among pods (sorted by name):
// for every member Pod that is ready, has an IP and is not being deleted,
// one endpoint per target port, named "<pod>-rank-<i>" after the port's
// index i as upstream names data-parallel ranks. A pool without
// matchLabels selects no Pod.
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
		eng, ok := engine(pod.Annotations)
		if !ok {
			notes = append(notes, fmt.Sprintf("Pod %s: ignoring annotation %s=%q", pod.Name, EngineAnnotation, pod.Annotations[EngineAnnotation]))
		}
		if eng == "" {
			eng = poolEngine
		}
		for rank, port := range pool.Spec.TargetPorts {
			eps = append(eps, config.Endpoint{
				Name:    pod.Name + "-rank-" + strconv.Itoa(rank),
				Address: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port.Number))),
				Engine:  eng,
			})
		}
	}
	return eps, notes
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
