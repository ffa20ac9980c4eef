package controller

import (
	"maps"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
)

func testPool(name string, match map[v1.LabelKey]v1.LabelValue, ports ...v1.PortNumber) v1.InferencePool {
	p := v1.InferencePool{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	p.Spec.Selector.MatchLabels = match
	for _, n := range ports {
		p.Spec.TargetPorts = append(p.Spec.TargetPorts, v1.Port{Number: n})
	}
	return p
}

type podOpt func(*corev1.Pod)

func testPod(name, ip string, ready bool, lbls map[string]string, opts ...podOpt) corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: lbls},
		Status: corev1.PodStatus{
			PodIP:      ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: status}},
		},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func deleting(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)} }

func annotated(v string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{EngineAnnotation: v} }
}

// withKeys sets Pod labels and annotations (on top of the existing ones).
func withKeys(labels, annotations map[string]string) podOpt {
	return func(p *corev1.Pod) {
		own := maps.Clone(p.Labels) // the test's label maps are shared
		if own == nil {
			own = map[string]string{}
		}
		maps.Copy(own, labels)
		p.Labels = own
		for k, v := range annotations {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[k] = v
		}
	}
}

func objective(name, pool string, prio *int) v1alpha2.InferenceObjective {
	return v1alpha2.InferenceObjective{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1alpha2.InferenceObjectiveSpec{
			Priority: prio,
			PoolRef:  v1alpha2.PoolObjectReference{Group: v1.GroupName, Kind: "InferencePool", Name: v1alpha2.ObjectName(pool)},
		},
	}
}

func rewrite(name, pool string, created int64, rules ...v1alpha2.InferenceModelRewriteRule) v1alpha2.InferenceModelRewrite {
	return v1alpha2.InferenceModelRewrite{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.Time{Time: time.Unix(created, 0)}},
		Spec: v1alpha2.InferenceModelRewriteSpec{
			PoolRef: &v1alpha2.PoolObjectReference{Name: v1alpha2.ObjectName(pool)},
			Rules:   rules,
		},
	}
}

// rule returns a rule matching models (none: catch-all) with targets given
// as model, weight pairs (weight 0: unset).
func rule(models []string, targets ...any) v1alpha2.InferenceModelRewriteRule {
	var r v1alpha2.InferenceModelRewriteRule
	for _, m := range models {
		r.Matches = append(r.Matches, v1alpha2.Match{Model: v1alpha2.ModelMatch{Value: m}})
	}
	for i := 0; i < len(targets); i += 2 {
		t := v1alpha2.TargetModel{ModelRewrite: targets[i].(string)}
		if w := int32(targets[i+1].(int)); w != 0 {
			t.Weight = &w
		}
		r.Targets = append(r.Targets, t)
	}
	return r
}

func TestBuildCatalog(t *testing.T) {
	app := map[v1.LabelKey]v1.LabelValue{"app": "chat"}
	chat := map[string]string{"app": "chat", "extra": "x"}
	five := 5
	sglangPool := testPool("chat", app, 8000)
	sglangPool.Annotations = map[string]string{EngineAnnotation: config.EngineSGLang}
	badPool := testPool("chat", app, 8000)
	badPool.Annotations = map[string]string{EngineAnnotation: "tgi"}

	tests := []struct {
		name      string
		state     state
		want      config.Catalog
		wantNotes int
	}{
		{
			name: "no pools",
			want: config.Catalog{},
		},
		{
			name: "ready pods with an IP, one endpoint per target port",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000, 8001)},
				pods: []corev1.Pod{
					testPod("b", "10.0.0.2", true, chat),
					testPod("a", "10.0.0.1", true, chat),
					testPod("not-ready", "10.0.0.3", false, chat),
					testPod("no-ip", "", true, chat),
					testPod("deleting", "10.0.0.4", true, chat, deleting),
					testPod("other-app", "10.0.0.5", true, map[string]string{"app": "code"}),
					testPod("no-labels", "10.0.0.6", true, nil),
					{ObjectMeta: metav1.ObjectMeta{Name: "no-conditions", Labels: chat}, Status: corev1.PodStatus{PodIP: "10.0.0.7"}},
				},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "vllm"},
				{Name: "a-rank-1", Address: "10.0.0.1:8001", Engine: "vllm"},
				{Name: "b-rank-0", Address: "10.0.0.2:8000", Engine: "vllm"},
				{Name: "b-rank-1", Address: "10.0.0.2:8001", Engine: "vllm"},
			}}}},
		},
		{
			name: "IPv6 pod address",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000)},
				pods:  []corev1.Pod{testPod("a", "fd00::1", true, chat)},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "[fd00::1]:8000", Engine: "vllm"},
			}}}},
		},
		{
			name: "pools sorted, a pod may be in several, empty selector selects none",
			state: state{
				pools: []v1.InferencePool{
					testPool("z", map[v1.LabelKey]v1.LabelValue{"extra": "x"}, 9000),
					testPool("empty", nil, 8000),
					testPool("chat", app, 8000),
				},
				pods: []corev1.Pod{testPod("a", "10.0.0.1", true, chat)},
			},
			want: config.Catalog{Pools: []config.Pool{
				{Name: "chat", Endpoints: []config.Endpoint{{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "vllm"}}},
				{Name: "empty"},
				{Name: "z", Endpoints: []config.Endpoint{{Name: "a-rank-0", Address: "10.0.0.1:9000", Engine: "vllm"}}},
			}},
		},
		{
			name: "engine from the pod, then the pool",
			state: state{
				pools: []v1.InferencePool{sglangPool},
				pods: []corev1.Pod{
					testPod("a", "10.0.0.1", true, chat),
					testPod("b", "10.0.0.2", true, chat, annotated(config.EngineTRTLLM)),
					testPod("c", "10.0.0.3", true, chat, annotated("tgi")),
				},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "sglang"},
				{Name: "b-rank-0", Address: "10.0.0.2:8000", Engine: "trtllm"},
				{Name: "c-rank-0", Address: "10.0.0.3:8000", Engine: "sglang"},
			}}}},
			wantNotes: 1,
		},
		{
			// llm-d label, then the GIE label, then infergate's annotation,
			// then the pool; an unknown value falls through to the next key.
			name: "engine keys in precedence order",
			state: state{
				pools: []v1.InferencePool{sglangPool},
				pods: []corev1.Pod{
					testPod("a", "10.0.0.1", true, chat, withKeys(map[string]string{EngineTypeLabel: "trtllm-serve", EngineTypeLabelGIE: "vllm"}, map[string]string{EngineAnnotation: "vllm"})),
					testPod("b", "10.0.0.2", true, chat, withKeys(map[string]string{EngineTypeLabelGIE: "vllm"}, map[string]string{EngineAnnotation: "trtllm"})),
					testPod("c", "10.0.0.3", true, chat, withKeys(map[string]string{EngineTypeLabel: "tgi"}, map[string]string{EngineAnnotation: "trtllm"})),
					testPod("d", "10.0.0.4", true, chat, withKeys(map[string]string{EngineTypeLabelGIE: "triton"}, nil)),
				},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "trtllm"},
				{Name: "b-rank-0", Address: "10.0.0.2:8000", Engine: "vllm"},
				{Name: "c-rank-0", Address: "10.0.0.3:8000", Engine: "trtllm"},
				{Name: "d-rank-0", Address: "10.0.0.4:8000", Engine: "sglang"},
			}}}},
			wantNotes: 2,
		},
		{
			// llm-d's annotation wins over GIE's; ranks keep their index in
			// targetPorts; no annotation means every port.
			name: "active ports",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000, 8001, 8002)},
				pods: []corev1.Pod{
					testPod("a", "10.0.0.1", true, chat, withKeys(nil, map[string]string{ActivePortsAnnotation: "8002, 8000,9999,x", ActivePortsAnnotationGIE: "8001"})),
					testPod("b", "10.0.0.2", true, chat, withKeys(nil, map[string]string{ActivePortsAnnotationGIE: "8001"})),
					testPod("c", "10.0.0.3", true, chat),
					testPod("d", "10.0.0.4", true, chat, withKeys(nil, map[string]string{ActivePortsAnnotation: ""})),
				},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "vllm"},
				{Name: "a-rank-2", Address: "10.0.0.1:8002", Engine: "vllm"},
				{Name: "b-rank-1", Address: "10.0.0.2:8001", Engine: "vllm"},
				{Name: "c-rank-0", Address: "10.0.0.3:8000", Engine: "vllm"},
				{Name: "c-rank-1", Address: "10.0.0.3:8001", Engine: "vllm"},
				{Name: "c-rank-2", Address: "10.0.0.3:8002", Engine: "vllm"},
			}}}},
			wantNotes: 1,
		},
		{
			name: "unknown pool engine falls back to vllm",
			state: state{
				pools: []v1.InferencePool{badPool},
				pods:  []corev1.Pod{testPod("a", "10.0.0.1", true, chat)},
			},
			want: config.Catalog{Pools: []config.Pool{{Name: "chat", Endpoints: []config.Endpoint{
				{Name: "a-rank-0", Address: "10.0.0.1:8000", Engine: "vllm"},
			}}}},
			wantNotes: 1,
		},
		{
			name: "objectives of served pools",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000)},
				objectives: []v1alpha2.InferenceObjective{
					objective("premium", "chat", &five),
					objective("default", "chat", nil),
					objective("elsewhere", "code", &five),
					func() v1alpha2.InferenceObjective {
						o := objective("wrong-kind", "chat", nil)
						o.Spec.PoolRef.Kind = "Service"
						return o
					}(),
					func() v1alpha2.InferenceObjective {
						o := objective("wrong-group", "chat", nil)
						o.Spec.PoolRef.Group = "inference.networking.x-k8s.io"
						return o
					}(),
					func() v1alpha2.InferenceObjective {
						o := objective("defaults", "chat", nil)
						o.Spec.PoolRef.Group, o.Spec.PoolRef.Kind = "", ""
						return o
					}(),
				},
			},
			want: config.Catalog{
				Pools:      []config.Pool{{Name: "chat"}},
				Objectives: []config.Objective{{Name: "default"}, {Name: "defaults"}, {Name: "premium", Priority: 5}},
			},
		},
		{
			name: "rewrites: oldest object, then name, then first rule wins; catch-all per pool",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000), testPool("code", app, 8000)},
				rewrites: []v1alpha2.InferenceModelRewrite{
					rewrite("newer", "chat", 200,
						rule([]string{"llama"}, "newer-llama", 0),
						rule(nil, "newer-base", 0),
						rule([]string{"mistral"}, "newer-mistral", 0)),
					rewrite("older", "chat", 100,
						rule([]string{"llama", "llama-alias"}, "llama-1", 90, "llama-2", 10),
						rule([]string{"llama"}, "second-rule", 0),
						rule(nil, "base", 0),
						rule(nil, "second-catch-all", 0)),
					rewrite("b-same-age", "code", 100, rule([]string{"coder"}, "b-coder", 0)),
					rewrite("a-same-age", "code", 100, rule([]string{"coder"}, "a-coder", 0)),
					rewrite("unserved", "other", 1, rule([]string{"llama"}, "other-llama", 0)),
				},
			},
			want: config.Catalog{
				Pools: []config.Pool{{Name: "chat"}, {Name: "code"}},
				Models: []config.Model{
					{Name: "", Pool: "chat", Targets: []config.Target{{Model: "base", Weight: 1}}},
					{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-1", Weight: 90}, {Model: "llama-2", Weight: 10}}},
					{Name: "llama-alias", Pool: "chat", Targets: []config.Target{{Model: "llama-1", Weight: 90}, {Model: "llama-2", Weight: 10}}},
					{Name: "mistral", Pool: "chat", Targets: []config.Target{{Model: "newer-mistral", Weight: 1}}},
					{Name: "coder", Pool: "code", Targets: []config.Target{{Model: "a-coder", Weight: 1}}},
				},
			},
		},
		{
			name: "rewrite targets: even split, partial weights, duplicates, empty names",
			state: state{
				pools: []v1.InferencePool{testPool("chat", app, 8000)},
				rewrites: []v1alpha2.InferenceModelRewrite{
					rewrite("rw", "chat", 1,
						rule([]string{"even"}, "x", 0, "y", 0),
						rule([]string{"partial"}, "x", 3, "y", 0),
						rule([]string{"dup"}, "x", 2, "y", 1, "x", 3),
						rule([]string{"no-targets"}),
						rule([]string{"empty-target"}, "", 0, "z", 0)),
				},
			},
			want: config.Catalog{
				Pools: []config.Pool{{Name: "chat"}},
				Models: []config.Model{
					{Name: "dup", Pool: "chat", Targets: []config.Target{{Model: "x", Weight: 5}, {Model: "y", Weight: 1}}},
					{Name: "empty-target", Pool: "chat", Targets: []config.Target{{Model: "z", Weight: 1}}},
					{Name: "even", Pool: "chat", Targets: []config.Target{{Model: "x", Weight: 1}, {Model: "y", Weight: 1}}},
					{Name: "partial", Pool: "chat", Targets: []config.Target{{Model: "x", Weight: 1}, {Model: "y", Weight: 1}}},
				},
			},
			wantNotes: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes := buildCatalog(tc.state)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("catalog (-want +got):\n%s", diff)
			}
			if len(notes) != tc.wantNotes {
				t.Errorf("notes %q; want %d", notes, tc.wantNotes)
			}
			again, _ := buildCatalog(tc.state)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("second build differs (-first +second):\n%s", diff)
			}
		})
	}
}

func TestCloneCatalog(t *testing.T) {
	orig := config.Catalog{
		Pools:      []config.Pool{{Name: "p", Endpoints: []config.Endpoint{{Name: "e", Address: "10.0.0.1:80"}}}},
		Models:     []config.Model{{Name: "m", Pool: "p", Targets: []config.Target{{Model: "t", Weight: 1}}}},
		Objectives: []config.Objective{{Name: "o", Priority: 1}},
	}
	want := cloneCatalog(orig)
	c := cloneCatalog(orig)
	c.Pools[0].Endpoints[0].Address = "changed"
	c.Pools[0].Name = "changed"
	c.Models[0].Targets[0].Weight = 7
	c.Objectives[0].Priority = 9
	if diff := cmp.Diff(want, orig); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
}
