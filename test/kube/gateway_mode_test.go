package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	infv1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/internal/kubetest"
	"github.com/infergate/infergate/internal/proctest"
)

// The namespace and ServiceAccount of the Kubernetes-mode gateway test.
const (
	gwNamespace = "infer"
	gwSA        = "infergate"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	// binCleanups remove built binaries when the test binary exits (TestMain).
	binCleanups []func()
)

// infergateBinary builds ./cmd/infergate once for the test binary.
func infergateBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		var cleanup func()
		binPath, cleanup, binErr = proctest.Build("../..")
		if binErr == nil {
			binCleanups = append(binCleanups, cleanup)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestGatewayKubernetesMode runs `infergate serve` in Kubernetes mode
// against a real API server: it serves two InferencePools (one by name, one
// by label selector) whose pods are simulators on 127.0.0.x, follows pod
// readiness and membership within a second, writes pool status, applies
// InferenceModelRewrites, guards /metrics with TokenReview and
// SubjectAccessReview as Google's guide verifies, keeps serving while the
// API server is down, and keeps TokenReviews bounded by its cache.
func TestGatewayKubernetesMode(t *testing.T) {
	bin := infergateBinary(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubetest.InstallCRDs(ctx, admin, "../../deploy/crds"); err != nil {
		t.Fatal(err)
	}
	applier, err := kubetest.NewApplier(admin)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(metricsReaderFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applier.Apply(ctx, manifest); err != nil {
		t.Fatalf("apply %s: %v", metricsReaderFile, err)
	}
	mustCreate(t, func() error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gwNamespace}}, metav1.CreateOptions{})
		return err
	})
	gatewayToken := gatewayServiceAccount(ctx, t, cs)

	// Simulators on distinct loopback addresses sharing one port, as the
	// pods of a pool share its targetPorts.
	port := freeLoopbackPort(t)
	sims := map[string]string{ // pod name → model
		"a-0": "model-a", "a-1": "model-a", "a-2": "model-a", "b-0": "model-b",
	}
	podIP := map[string]string{"a-0": "127.0.0.2", "a-1": "127.0.0.3", "a-2": "127.0.0.4", "b-0": "127.0.0.5"}
	for pod, model := range sims {
		proctest.StartSim(t, bin, net.JoinHostPort(podIP[pod], strconv.Itoa(port)), pod, "--model", model)
	}

	applyYAML(ctx, t, applier, fmt.Sprintf(`
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: pool-a, namespace: %[1]s}
spec:
  selector: {matchLabels: {app: a}}
  targetPorts: [{number: %[2]d}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: pool-b, namespace: %[1]s, labels: {tier: shared}}
spec:
  selector: {matchLabels: {app: b}}
  targetPorts: [{number: %[2]d}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: alias-a, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  rules:
  - matches: [{model: {value: alias-a}}]
    targets: [{modelRewrite: model-a}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  priority: -1
---
# llm-d router v0.10's group: a rewrite only there, and one of the same
# name as an older-group one, which it replaces.
apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: alias-llmd, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  rules:
  - matches: [{model: {value: alias-llmd}}]
    targets: [{modelRewrite: model-a}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: twin, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  rules:
  - matches: [{model: {value: alias-old}}]
    targets: [{modelRewrite: model-a}]
---
apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: twin, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  rules:
  - matches: [{model: {value: alias-new}}]
    targets: [{modelRewrite: model-a}]
---
apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: batch, namespace: %[1]s}
spec:
  poolRef: {name: pool-a}
  priority: -3
`, gwNamespace, port))
	for _, pod := range []string{"a-0", "a-1", "b-0"} {
		createReadyPod(ctx, t, cs, pod, podIP[pod])
	}

	dir := t.TempDir()
	kubeconfig := writeKubeconfig(t, dir, admin.Host, cp.CAData(), gatewayToken)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `
listen: 127.0.0.1:0
metricsListen: 127.0.0.1:0
kubernetes:
  enabled: true
  namespace: %s
  pools: [pool-a]
  poolSelector: {matchLabels: {tier: shared}}
  leaderElection: {leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 500ms}
metrics:
  auth:
    mode: kubernetes
`, gwNamespace), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, bin, "--config", cfgPath, "--kubeconfig", kubeconfig, "--log-level", "info")
	readerToken := waitForToken(ctx, t, cs, readerSecret)

	t.Run("routes each pool's models to its ready pods", func(t *testing.T) {
		if got := podsServing(t, gw.URL, "model-a", 24); !onlyPods(got, "a-0", "a-1") || len(got) != 2 {
			t.Errorf("model-a served by %v, want a-0 and a-1", podNames(got))
		}
		if got := podsServing(t, gw.URL, "model-b", 4); !onlyPods(got, "b-0") {
			t.Errorf("model-b (pool chosen by label selector) served by %v, want b-0", podNames(got))
		}
		if got := podsServing(t, gw.URL, "alias-a", 4); !onlyPods(got, "a-0", "a-1") {
			t.Errorf("alias-a (InferenceModelRewrite) served by %v, want pool-a's pods", podNames(got))
		}
	})

	t.Run("routes by objects of both groups, llm-d.ai winning by name", func(t *testing.T) {
		for _, model := range []string{"alias-llmd", "alias-new"} {
			if got := podsServing(t, gw.URL, model, 4); !onlyPods(got, "a-0", "a-1") {
				t.Errorf("%s (llm-d.ai InferenceModelRewrite) served by %v, want pool-a's pods", model, podNames(got))
			}
		}
		body := `{"model":"alias-old","prompt":"x","max_tokens":2}`
		resp, err := http.Post(gw.URL+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("alias-old (rule of an old-group object its llm-d.ai twin replaces) = %d, want 404", resp.StatusCode)
		}
		// The llm-d.ai objective "batch" (priority -3) replaces the older
		// one (-1); the request's fairness ID reaches the llm-d metrics.
		req, err := http.NewRequest(http.MethodPost, gw.URL+"/v1/completions", strings.NewReader(`{"model":"model-a","prompt":"y","max_tokens":2}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-llm-d-inference-objective", "batch")
		req.Header.Set("x-gateway-inference-fairness-id", "tenant-k")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request with objective batch = %d", resp.StatusCode)
		}
		want := `llm_d_epp_request_total{fairness_id="tenant-k",model_name="model-a",priority="-3",target_model_name="model-a"} 1`
		if m := scrapeMetrics(t, gw.MetricsURL, readerToken); !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	})

	t.Run("follows readiness and membership within a second", func(t *testing.T) {
		setPodReady(ctx, t, cs, "a-1", false)
		waitEndpoints(t, gw, readerToken, "pool-a", time.Second, "a-0-rank-0")
		if got := podsServing(t, gw.URL, "model-a", 12); !onlyPods(got, "a-0") {
			t.Errorf("after a-1 turned unready, model-a served by %v, want only a-0", podNames(got))
		}
		createReadyPod(ctx, t, cs, "a-2", podIP["a-2"])
		waitEndpoints(t, gw, readerToken, "pool-a", time.Second, "a-0-rank-0", "a-2-rank-0")
		if got := podsServing(t, gw.URL, "model-a", 24); !onlyPods(got, "a-0", "a-2") || len(got) != 2 {
			t.Errorf("after a-2 joined, model-a served by %v, want a-0 and a-2", podNames(got))
		}
		setPodReady(ctx, t, cs, "a-1", true)
		waitEndpoints(t, gw, readerToken, "pool-a", time.Second, "a-0-rank-0", "a-1-rank-0", "a-2-rank-0")
		if err := cs.CoreV1().Pods(gwNamespace).Delete(ctx, "a-2", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		waitEndpoints(t, gw, readerToken, "pool-a", time.Second, "a-0-rank-0", "a-1-rank-0")
	})

	t.Run("writes pool status", func(t *testing.T) {
		gvr := infv1.GroupVersion().WithResource("inferencepools")
		proctest.Eventually(t, 15*time.Second, "pool-a status accepted", func() error {
			u, err := dyn.Resource(gvr).Namespace(gwNamespace).Get(ctx, "pool-a", metav1.GetOptions{})
			if err != nil {
				return err
			}
			b, _ := json.Marshal(u.Object["status"])
			var st infv1.InferencePoolStatus
			if err := json.Unmarshal(b, &st); err != nil {
				return err
			}
			for _, p := range st.Parents {
				for _, c := range p.Conditions {
					if c.Type == string(infv1.InferencePoolConditionAccepted) && c.Status == metav1.ConditionTrue {
						return nil
					}
				}
			}
			return fmt.Errorf("status %s has no Accepted=True parent", b)
		})
	})

	t.Run("Google's metrics verification", func(t *testing.T) {
		noRole := serviceAccountToken(ctx, t, cs, "default", "no-metrics-role-gw")
		tests := []struct {
			name, path, token string
			want              int
		}{
			{name: "reader token from the Secret", path: "/metrics", token: readerToken, want: http.StatusOK},
			{name: "no token", path: "/metrics", want: http.StatusUnauthorized},
			{name: "garbage token", path: "/metrics", token: "garbage", want: http.StatusUnauthorized},
			{name: "ServiceAccount without the ClusterRole", path: "/metrics", token: noRole, want: http.StatusForbidden},
			{name: "reader token on pprof (ClusterRole grants /metrics only)", path: "/debug/pprof/", token: readerToken, want: http.StatusForbidden},
			{name: "cluster admin on pprof", path: "/debug/pprof/", token: admin.BearerToken, want: http.StatusOK},
			{name: "reader token on the dashboard API", path: "/dashboard/api/state", token: readerToken, want: http.StatusForbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := getStatus(t, gw.MetricsURL+tc.path, tc.token); got != tc.want {
					t.Errorf("GET %s = %d, want %d", tc.path, got, tc.want)
				}
			})
		}
	})

	t.Run("TokenReviews stay bounded under a scrape loop", func(t *testing.T) {
		before := tokenReviews(t, cp)
		if before < 1 {
			t.Fatalf("the API server counted %v TokenReviews so far, want at least the gateway's first review of the reader token", before)
		}
		for range 25 {
			if got := getStatus(t, gw.MetricsURL+"/metrics", readerToken); got != http.StatusOK {
				t.Fatalf("scrape = %d, want 200", got)
			}
		}
		if d := tokenReviews(t, cp) - before; d > 1 {
			t.Errorf("25 scrapes with one token caused %v TokenReviews, want at most 1 (cached)", d)
		}
	})

	t.Run("API server down: 503 for unknown tokens, routing goes on, recovery", func(t *testing.T) {
		// A reader token the gateway has not seen yet, so nothing is cached.
		fresh := serviceAccountToken(ctx, t, cs, "default", readerSA)
		if err := cp.StopAPIServer(); err != nil {
			t.Fatal(err)
		}
		if got := getStatus(t, gw.MetricsURL+"/metrics", fresh); got != http.StatusServiceUnavailable {
			t.Errorf("unknown token while the API server is down = %d, want 503", got)
		}
		if got := getStatus(t, gw.MetricsURL+"/metrics", readerToken); got != http.StatusOK {
			t.Errorf("cached token while the API server is down = %d, want 200", got)
		}
		if got := podsServing(t, gw.URL, "model-a", 6); !onlyPods(got, "a-0", "a-1") {
			t.Errorf("while the API server is down, model-a served by %v, want pool-a's pods", podNames(got))
		}
		if got := getStatus(t, gw.MetricsURL+"/readyz", ""); got != http.StatusOK {
			t.Errorf("readyz while the API server is down = %d, want 200", got)
		}
		if err := cp.StartAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		proctest.Eventually(t, 30*time.Second, "the unknown token accepted after recovery", func() error {
			if got := getStatus(t, gw.MetricsURL+"/metrics", fresh); got != http.StatusOK {
				return fmt.Errorf("status %d", got)
			}
			return nil
		})
		setPodReady(ctx, t, cs, "a-0", false)
		waitEndpoints(t, gw, readerToken, "pool-a", 10*time.Second, "a-1-rank-0")
	})

	if gw.Exited() {
		t.Fatalf("gateway exited:\n%s", gw.Output())
	}
}

// gatewayServiceAccount creates the gateway's ServiceAccount in gwNamespace
// with the permissions Kubernetes mode needs and returns a token for it.
func gatewayServiceAccount(ctx context.Context, t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"inference.networking.k8s.io"}, Resources: []string{"inferencepools"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"inference.networking.k8s.io"}, Resources: []string{"inferencepools/status"}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{"llm-d.ai", "inference.networking.x-k8s.io"}, Resources: []string{"inferenceobjectives", "inferencemodelrewrites"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
	mustCreate(t, func() error {
		_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "infergate-test-gateway"}, Rules: rules}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "infergate-test-gateway"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "infergate-test-gateway"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: gwSA, Namespace: gwNamespace}},
		}, metav1.CreateOptions{})
		return err
	})
	return serviceAccountToken(ctx, t, cs, gwNamespace, gwSA)
}

// serviceAccountToken creates the ServiceAccount when missing and returns a
// new token for it from the TokenRequest API.
func serviceAccountToken(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// mustCreate runs create and fails the test on an error.
func mustCreate(t *testing.T, create func() error) {
	t.Helper()
	if err := create(); err != nil {
		t.Fatal(err)
	}
}

// applyYAML server-side applies a multi-document manifest.
func applyYAML(ctx context.Context, t *testing.T, a *kubetest.Applier, manifest string) {
	t.Helper()
	if _, err := a.Apply(ctx, []byte(manifest)); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// createReadyPod creates pod name (label app=<first letter>) and sets its
// status to Running, Ready, with podIP ip, as a kubelet would.
func createReadyPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, name, ip string) {
	t.Helper()
	pod, err := cs.CoreV1().Pods(gwNamespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name[:1]}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "sim", Image: "infergate:test"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{
		Phase:  corev1.PodRunning,
		PodIP:  ip,
		PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now(),
		}},
	}
	if _, err := cs.CoreV1().Pods(gwNamespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setPodReady flips pod name's Ready condition.
func setPodReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, ready bool) {
	t.Helper()
	pod, err := cs.CoreV1().Pods(gwNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	if _, err := cs.CoreV1().Pods(gwNamespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitEndpoints waits up to d for the gateway's pool to consist of exactly
// the endpoints named, as its inference_pool_per_pod_queue_size series
// (one per endpoint with fresh metrics) show.
func waitEndpoints(t *testing.T, gw *proctest.Gateway, token, pool string, d time.Duration, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	proctest.Eventually(t, d, fmt.Sprintf("pool %s endpoints %v", pool, want), func() error {
		fams, err := proctest.TryScrape(gw.MetricsURL+"/metrics", token)
		if err != nil {
			return err
		}
		var got []string
		for _, m := range fams["inference_pool_per_pod_queue_size"].GetMetric() {
			var name, pod string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "name":
					name = l.GetValue()
				case "model_server_pod":
					pod = l.GetValue()
				}
			}
			if name == pool {
				got = append(got, pod)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("endpoints %v", got)
		}
		return nil
	})
}

// podsServing sends n completions for model (distinct prompts) and counts
// the answering replicas by their x-inference-pod header.
func podsServing(t *testing.T, base, model string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := range n {
		body := fmt.Sprintf(`{"model":%q,"prompt":"request %d of a routing test %d","max_tokens":2}`, model, i, time.Now().UnixNano())
		resp, err := http.Post(base+"/v1/completions", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatalf("POST /v1/completions: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /v1/completions model %s = %d: %s", model, resp.StatusCode, b)
		}
		got[resp.Header.Get("x-inference-pod")]++
	}
	return got
}

// scrapeMetrics returns the gateway's /metrics exposition.
func scrapeMetrics(t *testing.T, metricsURL, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, metricsURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// getStatus GETs url with an optional bearer token and returns the status.
func getStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// tokenReviews reads how many TokenReviews the API server has handled from
// its own apiserver_request_total counter.
func tokenReviews(t *testing.T, cp *kubetest.ControlPlane) float64 {
	t.Helper()
	client, err := rest.HTTPClientFor(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(cp.AdminConfig().Host + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, m := range fams["apiserver_request_total"].GetMetric() {
		resource, verb := "", ""
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "resource":
				resource = l.GetValue()
			case "verb":
				verb = l.GetValue()
			}
		}
		if resource == "tokenreviews" && verb == "POST" {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// writeKubeconfig writes a kubeconfig for token at host and returns its path.
func writeKubeconfig(t *testing.T, dir, host string, ca []byte, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos["gateway"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "gateway"}
	cfg.CurrentContext = "test"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeLoopbackPort returns a port free on 127.0.0.2 (and, in practice, on
// the other 127.0.0.x addresses the test uses).
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// onlyPods reports whether got is not empty and every key is one of allowed.
func onlyPods(got map[string]int, allowed ...string) bool {
	for k := range got {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return len(got) > 0
}

// podNames returns m's keys, sorted.
func podNames(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}
