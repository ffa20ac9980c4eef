package controller

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	llmdv1alpha2 "github.com/infergate/infergate/api/llmd/v1alpha2"
	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
)

// llmdObjective is objective in the llm-d.ai group.
func llmdObjective(t *testing.T, ns, name, pool string, prio *int) *llmdv1alpha2.InferenceObjective {
	t.Helper()
	old := objective(name, pool, prio)
	var o llmdv1alpha2.InferenceObjective
	if err := convert(&old, &o); err != nil {
		t.Fatal(err)
	}
	o.Namespace = ns
	return &o
}

// llmdRewrite is rewrite in the llm-d.ai group.
func llmdRewrite(t *testing.T, ns string, old v1alpha2.InferenceModelRewrite) *llmdv1alpha2.InferenceModelRewrite {
	t.Helper()
	var r llmdv1alpha2.InferenceModelRewrite
	if err := convert(&old, &r); err != nil {
		t.Fatal(err)
	}
	r.Namespace = ns
	r.CreationTimestamp = metav1.Time{}
	return &r
}

// oldObjects creates objectives and a rewrite in the
// inference.networking.x-k8s.io group.
func oldObjects(t *testing.T, e *env, ns string, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		o.SetNamespace(ns)
		o.SetCreationTimestamp(metav1.Time{})
		e.create(t, o)
	}
}

// shadowEvents lists the deprecation Events about name in ns.
func shadowEvents(t *testing.T, e *env, ns, name string) []eventsv1.Event {
	t.Helper()
	list, err := e.cs.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Reason == ReasonShadowed && ev.Regarding.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// TestBothGroups serves a cluster with both CRD sets installed: objects only
// in the old group (a GIE v1.5 user's) keep routing, objects only in
// llm-d.ai route, and where both groups hold an object of the same name the
// llm-d.ai one wins and the old one gets a deprecation Event.
func TestBothGroups(t *testing.T) {
	e := startEnv(t)
	ten, twenty := 10, 20
	match := map[v1.LabelKey]v1.LabelValue{"app": "chat"}

	t.Run("old group only", func(t *testing.T) {
		ns := e.namespace(t, "old-only")
		e.createPool(t, ns, "chat", nil, match, 8000)
		prem := objective("premium", "chat", &ten)
		rw := rewrite("rw", "chat", 0, rule([]string{"llama"}, "llama-a", 0))
		oldObjects(t, e, ns, &prem, &rw)
		r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})
		r.rec.waitFor(t, "old-group objects route", routingIs(
			[]config.Objective{{Name: "premium", Priority: 10}},
			[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-a", Weight: 1}}}}))
		if !r.c.watchObjectives || !r.c.watchObjectivesLLMD || !r.c.watchRewrites || !r.c.watchRewritesLLMD {
			t.Errorf("watching old %t/%t, llm-d.ai %t/%t; want all", r.c.watchObjectives, r.c.watchRewrites, r.c.watchObjectivesLLMD, r.c.watchRewritesLLMD)
		}
	})

	t.Run("new group only", func(t *testing.T) {
		ns := e.namespace(t, "new-only")
		e.createPool(t, ns, "chat", nil, match, 8000)
		e.create(t, llmdObjective(t, ns, "premium", "chat", &twenty))
		e.create(t, llmdRewrite(t, ns, rewrite("rw", "chat", 0, rule([]string{"llama"}, "llama-b", 0))))
		r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})
		r.rec.waitFor(t, "llm-d.ai objects route", routingIs(
			[]config.Objective{{Name: "premium", Priority: 20}},
			[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-b", Weight: 1}}}}))
	})

	t.Run("both groups", func(t *testing.T) {
		ns := e.namespace(t, "both")
		e.createPool(t, ns, "chat", nil, match, 8000)
		prem := objective("premium", "chat", &ten)
		std := objective("standard", "chat", nil)
		rw := rewrite("rw", "chat", 0, rule([]string{"llama"}, "llama-a", 0))
		oldObjects(t, e, ns, &prem, &std, &rw)
		r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})
		r.rec.waitFor(t, "old-group objects route", routingIs(
			[]config.Objective{{Name: "premium", Priority: 10}, {Name: "standard"}},
			[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-a", Weight: 1}}}}))

		// The llm-d.ai twins arrive: they win, per object; "standard"
		// exists only in the old group and still counts.
		newPrem := llmdObjective(t, ns, "premium", "chat", &twenty)
		e.create(t, newPrem)
		e.create(t, llmdRewrite(t, ns, rewrite("rw", "chat", 0, rule([]string{"llama"}, "llama-b", 0))))
		r.rec.waitFor(t, "llm-d.ai objects win by name", routingIs(
			[]config.Objective{{Name: "premium", Priority: 20}, {Name: "standard"}},
			[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-b", Weight: 1}}}}))
		for _, name := range []string{"premium", "rw"} {
			eventually(t, "a deprecation Event on the shadowed "+name, func() string {
				evs := shadowEvents(t, e, ns, name)
				if len(evs) == 0 {
					return "none yet"
				}
				ev := evs[0]
				if ev.Type != "Warning" || ev.Regarding.APIVersion != v1alpha2.GroupVersion().String() ||
					!strings.Contains(ev.Note, llmdv1alpha2.GroupName) {
					return fmt.Sprintf("event %s %s %q", ev.Type, ev.Regarding.APIVersion, ev.Note)
				}
				return ""
			})
		}
		if evs := shadowEvents(t, e, ns, "standard"); len(evs) != 0 {
			t.Errorf("standard has no llm-d.ai twin but got %d deprecation Events", len(evs))
		}

		// Deleting the llm-d.ai object brings the old one back.
		e.delete(t, newPrem)
		r.rec.waitFor(t, "old objective back after its twin is deleted", routingIs(
			[]config.Objective{{Name: "premium", Priority: 10}, {Name: "standard"}},
			[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-b", Weight: 1}}}}))
	})
}

// TestOnlyOldGroupCRDs serves a cluster that has the GIE v1.5 CRDs and no
// llm-d.ai ones: the controller must not wait for caches of the kinds the
// API server does not serve, and old-group objects route.
func TestOnlyOldGroupCRDs(t *testing.T) {
	dir := t.TempDir()
	entries, err := os.ReadDir(crdDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if !strings.HasSuffix(ent.Name(), ".yaml") || strings.HasPrefix(ent.Name(), llmdv1alpha2.GroupName+"_") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(crdDir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ent.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := startEnvWithCRDs(t, dir)
	ns := e.namespace(t, "old-crds")
	e.createPool(t, ns, "chat", nil, map[v1.LabelKey]v1.LabelValue{"app": "chat"}, 8000)
	ten := 10
	prem := objective("premium", "chat", &ten)
	rw := rewrite("rw", "chat", 0, rule([]string{"llama"}, "llama-a", 0))
	oldObjects(t, e, ns, &prem, &rw)
	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})
	r.rec.waitFor(t, "old-group objects route", routingIs(
		[]config.Objective{{Name: "premium", Priority: 10}},
		[]config.Model{{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-a", Weight: 1}}}}))
	if r.c.watchObjectivesLLMD || r.c.watchRewritesLLMD {
		t.Errorf("watching llm-d.ai kinds on a cluster without their CRDs")
	}
}

// TestMergeGroups checks the per-object merge: llm-d.ai objects win by
// name, old-group objects without a twin stay, and the shadowed ones are
// reported.
func TestMergeGroups(t *testing.T) {
	one, two := 1, 2
	older := []v1alpha2.InferenceObjective{objective("a", "p", &one), objective("b", "p", &one)}
	newer := []llmdv1alpha2.InferenceObjective{*llmdObjective(t, "ns", "b", "p", &two), *llmdObjective(t, "ns", "c", "p", &two)}
	out, shadowed, err := mergeObjectives(newer, older)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range out {
		got[o.Name] = *o.Spec.Priority
	}
	if want := map[string]int{"a": 1, "b": 2, "c": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("merged priorities %v, want %v", got, want)
	}
	if len(shadowed) != 1 || shadowed[0].Name != "b" {
		t.Errorf("shadowed %v, want old b", shadowed)
	}

	oldRW := []v1alpha2.InferenceModelRewrite{rewrite("r", "p", 0, rule([]string{"m"}, "old", 0))}
	newRW := []llmdv1alpha2.InferenceModelRewrite{*llmdRewrite(t, "ns", rewrite("r", "p", 0, rule([]string{"m"}, "new", 0)))}
	rws, shadowedRW, err := mergeRewrites(newRW, oldRW)
	if err != nil {
		t.Fatal(err)
	}
	if len(rws) != 1 || rws[0].Spec.Rules[0].Targets[0].ModelRewrite != "new" || len(shadowedRW) != 1 {
		t.Errorf("merged rewrites %+v, shadowed %d; want the llm-d.ai one and one shadowed", rws, len(shadowedRW))
	}
}

// TestWithoutPermissionForNewGroup runs the controller as a ServiceAccount
// whose Role predates the llm-d.ai group (an upgrade that kept the old
// RBAC) on a cluster with both CRD sets: it must skip the group it may not
// watch instead of waiting forever for that cache, and route by the old
// group's objects.
func TestWithoutPermissionForNewGroup(t *testing.T) {
	e := startEnv(t)
	ns := e.namespace(t, "old-rbac")
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{v1.GroupName}, Resources: []string{"inferencepools"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{v1.GroupName}, Resources: []string{"inferencepools/status"}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{v1alpha2.GroupName}, Resources: []string{"inferenceobjectives", "inferencemodelrewrites"}, Verbs: []string{"get", "list", "watch"}},
	}
	ctx := t.Context()
	if _, err := e.cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "gw"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "gw"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "gw"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "gw"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "gw", Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "gw", &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(e.cp.AdminConfig())
	cfg.BearerToken = tok.Status.Token
	cfg.TLSClientConfig = rest.TLSClientConfig{CAData: e.cp.CAData()}
	cfg.CertData, cfg.KeyData, cfg.CertFile, cfg.KeyFile = nil, nil, "", ""

	e.createPool(t, ns, "chat", nil, map[v1.LabelKey]v1.LabelValue{"app": "chat"}, 8000)
	ten := 10
	prem := objective("premium", "chat", &ten)
	oldObjects(t, e, ns, &prem)
	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}, Config: cfg})
	r.rec.waitFor(t, "old-group objects route", routingIs([]config.Objective{{Name: "premium", Priority: 10}}, nil))
	if r.c.watchObjectivesLLMD || r.c.watchRewritesLLMD || !r.c.watchObjectives {
		t.Errorf("watching llm-d.ai %t/%t, old objectives %t; want only the permitted group", r.c.watchObjectivesLLMD, r.c.watchRewritesLLMD, r.c.watchObjectives)
	}
}
