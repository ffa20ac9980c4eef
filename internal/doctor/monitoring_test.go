package doctor

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// monitorObject builds a ClusterPodMonitoring (namespace "") or a
// PodMonitoring selecting app=gw with one endpoint; secret "" leaves out
// the authorization.
func monitorObject(namespace, name string, port any, secret string) unstructured.Unstructured {
	kind := kindClusterPodMonitoring
	if namespace != "" {
		kind = kindPodMonitoring
	}
	ep := map[string]any{"port": port, "interval": "5s"}
	if secret != "" {
		ep["authorization"] = map[string]any{"type": "Bearer", "credentials": map[string]any{
			"secret": map[string]any{"name": secret, "key": "token"},
		}}
	}
	u := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.googleapis.com/v1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": map[string]any{"app": "gw"}},
			"endpoints": []any{ep},
		},
	}}
	u.SetNamespace(namespace)
	return u
}

func TestJudgeMonitors(t *testing.T) {
	t.Parallel()
	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-0", Namespace: "inference", Labels: map[string]string{"app": "gw"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "gateway", Ports: []corev1.ContainerPort{
			{Name: MetricsPortName, ContainerPort: 9090},
		}}}},
	}
	set := &podSet{selector: labels.SelectorFromSet(labels.Set{"app": "gw"}), pods: []corev1.Pod{pod}, listed: true}
	src := &SecretToken{Namespace: "inference", Name: "reader-token"}

	tests := []struct {
		name       string
		objs       []unstructured.Unstructured
		src        *SecretToken
		want       Verdict
		wantDetail string
	}{
		{
			name: "a PodMonitoring in the pods' namespace",
			objs: []unstructured.Unstructured{monitorObject("inference", "gw", "metrics", "reader-token")},
			src:  src, want: Pass,
			wantDetail: "selected by PodMonitoring inference/gw (port metrics, secret inference/reader-token)",
		},
		{
			name: "a PodMonitoring elsewhere selects nothing",
			objs: []unstructured.Unstructured{monitorObject("other", "gw", "metrics", "reader-token")},
			want: Fail, wantDetail: "no ClusterPodMonitoring or PodMonitoring selects",
		},
		{
			name: "a ClusterPodMonitoring's secret defaults to namespace default",
			objs: []unstructured.Unstructured{monitorObject("", "gw", "metrics", "reader-token")},
			src:  src, want: Warn,
			wantDetail: "does not send secret inference/reader-token",
		},
		{
			name: "a port name the pods do not have",
			objs: []unstructured.Unstructured{monitorObject("", "gw", "http-metrics", "reader-token")},
			want: Fail, wantDetail: "scrapes port http-metrics, which the pods do not name",
		},
		{
			name: "a port number",
			objs: []unstructured.Unstructured{monitorObject("", "gw", int64(9090), "reader-token")},
			want: Pass, wantDetail: "(port 9090, secret default/reader-token)",
		},
		{
			name: "no token",
			objs: []unstructured.Unstructured{monitorObject("", "gw", "metrics", "")},
			want: Warn, wantDetail: "scrapes without a bearer token",
		},
		{
			name: "both kinds",
			objs: []unstructured.Unstructured{monitorObject("", "gw", "metrics", "t"), monitorObject("inference", "gw", "metrics", "t")},
			want: Warn, wantDetail: "scraped twice",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			targets := podTargets(set, "inference")
			var matched []monitor
			for i := range tc.objs {
				m, err := parseMonitor(&tc.objs[i])
				if err != nil {
					t.Fatal(err)
				}
				if m.selects(targets) {
					matched = append(matched, m)
				}
			}
			r := &Report{}
			if len(matched) == 0 {
				r.add(CheckMonitoring, Fail, "no ClusterPodMonitoring or PodMonitoring selects the pods", "apply one")
			} else {
				r.judgeMonitors(matched, targets, tc.src)
			}
			c, _ := r.Find(CheckMonitoring)
			if c.Verdict != tc.want || !strings.Contains(c.Detail, tc.wantDetail) {
				t.Errorf("monitoring = %v %q; want %v containing %q", c.Verdict, c.Detail, tc.want, tc.wantDetail)
			}
		})
	}
}

func TestParseMonitorRejectsBadSelector(t *testing.T) {
	t.Parallel()
	u := monitorObject("", "bad", "metrics", "")
	u.Object["spec"].(map[string]any)["selector"] = map[string]any{
		"matchExpressions": []any{map[string]any{"key": "app", "operator": "Sideways"}},
	}
	if _, err := parseMonitor(&u); err == nil || !strings.Contains(err.Error(), "ClusterPodMonitoring bad: spec.selector") {
		t.Fatalf("parseMonitor error = %v", err)
	}
}
