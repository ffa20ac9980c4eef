package doctor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/infergate/infergate/deploy/monitoring"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/gateway"
	"github.com/infergate/infergate/internal/kubetest"
	"github.com/infergate/infergate/internal/simulator"
)

// metricsReaderFile is Google's metrics-reader RBAC: ServiceAccount,
// token Secret, ClusterRoles and ClusterRoleBindings.
const metricsReaderFile = "../../deploy/rbac/metrics-reader.yaml"

// gatewayLabels are the labels of the test's gateway pods.
var gatewayLabels = map[string]string{"app": "inference-gateway-ext-proc"}

// limitedDoctor is RBAC for a doctor identity that may read everything the
// checks read but may not create SubjectAccessReviews.
const limitedDoctor = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: doctor-limited
  namespace: default
---
apiVersion: v1
kind: Secret
metadata:
  name: doctor-limited-token
  namespace: default
  annotations:
    kubernetes.io/service-account.name: doctor-limited
type: kubernetes.io/service-account-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: doctor-limited
rules:
- apiGroups: [""]
  resources: [secrets, serviceaccounts, pods]
  verbs: [get, list]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles, clusterrolebindings]
  verbs: [get]
- apiGroups: [monitoring.googleapis.com]
  resources: [clusterpodmonitorings, podmonitorings]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: doctor-limited
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: doctor-limited
subjects:
- kind: ServiceAccount
  name: doctor-limited
  namespace: default
`

// clusterEnv is a control plane with Google's metrics-reader RBAC, the
// collector's ServiceAccount, two Ready gateway pods, and a gateway in
// process that accepts the reader secret's token.
type clusterEnv struct {
	ctx        context.Context
	cp         *kubetest.ControlPlane
	admin      kubernetes.Interface
	applier    *kubetest.Applier
	rbac       []byte
	token      string
	metricsURL string
	kubeconfig string
	limited    *rest.Config
}

func startClusterEnv(t *testing.T) *clusterEnv {
	t.Helper()
	cp := kubetest.StartForTest(t)
	// Not t.Context(): the subtests' cleanups use ctx after the test ends.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	admin, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	applier, err := kubetest.NewApplier(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	rbac, err := os.ReadFile(metricsReaderFile)
	if err != nil {
		t.Fatal(err)
	}
	env := &clusterEnv{ctx: ctx, cp: cp, admin: admin, applier: applier, rbac: rbac}
	env.apply(t, rbac)
	env.apply(t, []byte(limitedDoctor))
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gmp-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ServiceAccounts("gmp-system").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "collector"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.token = env.waitForToken(t, ReaderSecret)
	env.limited = cp.ConfigForToken(env.waitForToken(t, "doctor-limited-token"))
	metrics := []corev1.ContainerPort{{Name: MetricsPortName, ContainerPort: 9090}, {Name: "http", ContainerPort: 8080}}
	env.createPod(t, "gw-0", metrics, true)
	env.createPod(t, "gw-1", metrics, true)
	env.kubeconfig = env.writeKubeconfig(t)
	env.metricsURL = startTokenGateway(t, env.token)
	return env
}

// apply applies a manifest as the admin.
func (e *clusterEnv) apply(t *testing.T, manifest []byte) {
	t.Helper()
	if _, err := e.applier.Apply(e.ctx, manifest); err != nil {
		t.Fatal(err)
	}
}

// waitForToken waits for the token controller to fill the
// service-account-token Secret name in default and returns the token.
func (e *clusterEnv) waitForToken(t *testing.T, name string) string {
	t.Helper()
	tok, err := kubetest.WaitForToken(e.ctx, e.admin, metav1.NamespaceDefault, name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// eventually polls cond until it returns nil, failing the test after 30s.
func (e *clusterEnv) eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// createPod creates a gateway pod in default; ready sets the status a
// kubelet would report for a running, Ready pod.
func (e *clusterEnv) createPod(t *testing.T, name string, ports []corev1.ContainerPort, ready bool) {
	t.Helper()
	p, err := e.admin.CoreV1().Pods(metav1.NamespaceDefault).Create(e.ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: gatewayLabels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "gateway", Image: "infergate:test", Ports: ports,
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ready {
		return
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := e.admin.CoreV1().Pods(metav1.NamespaceDefault).UpdateStatus(e.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// tempPod creates a gateway pod for one subtest and deletes it afterwards.
func (e *clusterEnv) tempPod(t *testing.T, name string, ports []corev1.ContainerPort, ready bool) {
	t.Helper()
	e.createPod(t, name, ports, ready)
	t.Cleanup(func() {
		pods := e.admin.CoreV1().Pods(metav1.NamespaceDefault)
		if err := pods.Delete(e.ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "pod "+name+" deleted", func() error {
			if _, err := pods.Get(e.ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return errors.Join(errors.New("still there"), err)
			}
			return nil
		})
	})
}

// withoutBinding deletes a ClusterRoleBinding of the guide for one subtest,
// waiting until the API server denies what it granted, and restores it
// afterwards.
func (e *clusterEnv) withoutBinding(t *testing.T, name string, sa account, spec authzv1.SubjectAccessReviewSpec) {
	t.Helper()
	if err := e.admin.RbacV1().ClusterRoleBindings().Delete(e.ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitAllowed(t, sa, spec, false)
	t.Cleanup(func() {
		e.apply(t, e.rbac)
		e.waitAllowed(t, sa, spec, true)
	})
}

// waitAllowed polls a SubjectAccessReview until its answer is want.
func (e *clusterEnv) waitAllowed(t *testing.T, sa account, spec authzv1.SubjectAccessReviewSpec, want bool) {
	t.Helper()
	spec.User, spec.Groups = sa.user(), sa.groups()
	e.eventually(t, "SubjectAccessReview answers "+map[bool]string{true: "allowed", false: "denied"}[want], func() error {
		sar, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(e.ctx, &authzv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if sar.Status.Allowed != want {
			return errors.New("not yet")
		}
		return nil
	})
}

// installGMP installs stand-ins for Managed Prometheus's CRDs for one
// subtest and removes them afterwards.
func (e *clusterEnv) installGMP(t *testing.T) {
	t.Helper()
	cfg := e.cp.AdminConfig()
	names, err := kubetest.InstallCRDs(e.ctx, cfg, "testdata/gmp-crds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
		for _, n := range names {
			if err := crds.Delete(e.ctx, n, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range names {
			e.eventually(t, "CRD "+n+" removed", func() error {
				if _, err := crds.Get(e.ctx, n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return errors.Join(errors.New("still there"), err)
				}
				return nil
			})
		}
		e.eventually(t, "monitoring.googleapis.com no longer served", func() error {
			if _, err := dyn.Resource(gmpResource("clusterpodmonitorings")).List(e.ctx, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
				return errors.Join(errors.New("still served"), err)
			}
			return nil
		})
	})
}

// writeKubeconfig writes a kubeconfig for the admin whose context's
// namespace is default.
func (e *clusterEnv) writeKubeconfig(t *testing.T) string {
	t.Helper()
	admin := e.cp.AdminConfig()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: e.cp.CAData()}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: admin.BearerToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: metav1.NamespaceDefault}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTokenGateway starts a simulator and a gateway in process whose
// metrics endpoint accepts token, and returns the metrics URL once the
// gateway is ready.
func startTokenGateway(t *testing.T, token string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sc := simulator.DefaultConfig()
	sc.TimeScale = 100
	sim, err := simulator.New(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Serve(ctx, ln) }()

	tokenFile := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(tokenFile, []byte(token+",collector\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Pools = []config.Pool{{Name: "p", Endpoints: []config.Endpoint{{Name: "sim", Address: ln.Addr().String()}}}}
	cfg.Metrics.Auth.TokenFile = tokenFile
	cfg.Shutdown.GracePeriod = config.Duration{Duration: 5 * time.Second}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		for _, done := range []chan error{served, simDone} {
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("stop: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("gateway or simulator did not stop within 30s")
			}
		}
	})

	base := "http://" + gw.MetricsAddr().String()
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base + "/metrics"
			}
		}
		select {
		case <-deadline.C:
			t.Fatal("gateway not ready within 30s")
		case <-tick.C:
		}
	}
}

// TestInCluster runs the doctor against a real kube-apiserver holding
// Google's metrics-reader RBAC and a real gateway that accepts the token
// the token controller put in the guide's secret. The cases run in order
// on one control plane; each restores what it changes.
func TestInCluster(t *testing.T) {
	env := startClusterEnv(t)

	good := map[string]Verdict{
		CheckCluster: Pass, CheckToken: Pass, CheckReachable: Pass, CheckAuth: Pass,
		CheckPods: Pass, CheckMetricsPort: Pass, CheckMetricsRBAC: Pass, CheckSecretRBAC: Pass, CheckMonitoring: Warn,
	}
	with := func(over map[string]Verdict) map[string]Verdict {
		out := make(map[string]Verdict, len(good))
		for k, v := range good {
			out[k] = v
		}
		for k, v := range over {
			out[k] = v
		}
		return out
	}
	reader := account{namespace: metav1.NamespaceDefault, name: ReaderServiceAccount}
	collector := account{namespace: "gmp-system", name: "collector"}
	getMetrics := authzv1.SubjectAccessReviewSpec{NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}}
	getSecret := authzv1.SubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
		Namespace: metav1.NamespaceDefault, Verb: "get", Resource: "secrets", Name: ReaderSecret}}

	tests := []struct {
		name  string
		setup func(t *testing.T)
		// token defaults to the guide's secret; cluster.Config to the
		// admin's unless cluster.Kubeconfig is set.
		token   TokenSource
		cluster Cluster
		// healthy reruns the doctor until nothing fails (bounded): on a
		// loaded machine the gateway's endpoint metrics can go stale.
		healthy      bool
		want         map[string]Verdict
		wantInDetail map[string][]string
		wantInFix    map[string][]string
	}{
		{
			name:    "all good, from a kubeconfig file, Managed Prometheus not installed",
			cluster: Cluster{Kubeconfig: env.kubeconfig},
			healthy: true,
			want:    good,
			wantInDetail: map[string][]string{
				CheckCluster:     {"Kubernetes " + kubetest.Version, "as " + kubetest.AdminUser, "namespace default (from the kubeconfig context)"},
				CheckToken:       {"read from secret default/" + ReaderSecret + ": token of ServiceAccount default/" + ReaderServiceAccount},
				CheckAuth:        {"the token was accepted"},
				CheckPods:        {"2 pods labelled app=inference-gateway-ext-proc Ready in namespace default: gw-0, gw-1"},
				CheckMetricsPort: {"every pod has port metrics (9090)"},
				CheckMetricsRBAC: {"ServiceAccount default/" + ReaderServiceAccount + " may GET /metrics"},
				CheckSecretRBAC:  {"ServiceAccount gmp-system/collector may read secret default/" + ReaderSecret},
				CheckMonitoring:  {"monitoring.googleapis.com API is not served"},
			},
		},
		{
			name:  "the secret does not exist",
			token: SecretToken{Name: "no-such-secret"},
			want:  with(map[string]Verdict{CheckToken: Fail, CheckAuth: Fail, CheckMetricsRBAC: Skip, CheckSecretRBAC: Skip}),
			wantInDetail: map[string][]string{
				CheckToken: {"secret default/no-such-secret not found"},
				CheckAuth:  {"none was sent"},
			},
			wantInFix: map[string][]string{CheckToken: {"deploy/rbac/metrics-reader.yaml", "--token-secret NAMESPACE/NAME"}},
		},
		{
			name:  "the reader's ClusterRoleBinding is missing",
			setup: func(t *testing.T) { env.withoutBinding(t, ReaderClusterRoleBinding, reader, getMetrics) },
			want:  with(map[string]Verdict{CheckMetricsRBAC: Fail}),
			wantInDetail: map[string][]string{CheckMetricsRBAC: {
				"ServiceAccount default/" + ReaderServiceAccount + " may not GET /metrics",
				"ClusterRoleBinding " + ReaderClusterRoleBinding + " is missing",
			}},
			wantInFix: map[string][]string{CheckMetricsRBAC: {"ClusterRole " + ReaderClusterRole, "ClusterRoleBinding " + ReaderClusterRoleBinding}},
		},
		{
			name:  "the collector's ClusterRoleBinding is missing",
			setup: func(t *testing.T) { env.withoutBinding(t, secretReadBinding(collector), collector, getSecret) },
			want:  with(map[string]Verdict{CheckSecretRBAC: Fail}),
			wantInDetail: map[string][]string{CheckSecretRBAC: {
				"ServiceAccount gmp-system/collector may not read secret default/" + ReaderSecret,
				"ClusterRoleBinding gmp-system:collector:" + SecretReadClusterRole + " is missing",
			}},
			wantInFix: map[string][]string{CheckSecretRBAC: {"ClusterRole " + SecretReadClusterRole}},
		},
		{
			name:    "the Autopilot collector, which does not exist here",
			cluster: Cluster{Collector: AutopilotCollector},
			want:    with(map[string]Verdict{CheckSecretRBAC: Fail}),
			wantInDetail: map[string][]string{CheckSecretRBAC: {
				"ClusterRoleBinding gke-gmp-system:collector:" + SecretReadClusterRole + " is missing",
				"ServiceAccount gke-gmp-system/collector does not exist",
			}},
		},
		{
			name: "a copied token in an Opaque secret",
			setup: func(t *testing.T) {
				secrets := env.admin.CoreV1().Secrets(metav1.NamespaceDefault)
				if _, err := secrets.Create(env.ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: "copied-token"},
					Data:       map[string][]byte{corev1.ServiceAccountTokenKey: []byte(env.token)},
				}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := secrets.Delete(env.ctx, "copied-token", metav1.DeleteOptions{}); err != nil {
						t.Error(err)
					}
				})
			},
			token: SecretToken{Name: "copied-token"},
			want:  with(map[string]Verdict{CheckToken: Warn, CheckMetricsRBAC: Skip, CheckSecretRBAC: Fail}),
			wantInDetail: map[string][]string{
				CheckToken:      {"has type Opaque, not kubernetes.io/service-account-token"},
				CheckSecretRBAC: {"ClusterRole " + SecretReadClusterRole + " does not grant get on secret copied-token"},
			},
		},
		{
			name: "a pod without a port named metrics",
			setup: func(t *testing.T) {
				env.tempPod(t, "gw-no-port", []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}, true)
			},
			want:         with(map[string]Verdict{CheckMetricsPort: Fail}),
			wantInDetail: map[string][]string{CheckMetricsPort: {"1 of 3 pods have no container port named metrics: gw-no-port"}},
			wantInFix:    map[string][]string{CheckMetricsPort: {"name: metrics"}},
		},
		{
			name: "a pod that is not Ready",
			setup: func(t *testing.T) {
				env.tempPod(t, "gw-starting", []corev1.ContainerPort{{Name: MetricsPortName, ContainerPort: 9090}}, false)
			},
			want:         with(map[string]Verdict{CheckPods: Fail}),
			wantInDetail: map[string][]string{CheckPods: {"1 of 3 pods labelled app=inference-gateway-ext-proc not Ready: gw-starting (phase Pending)"}},
			wantInFix:    map[string][]string{CheckPods: {"kubectl describe pod gw-starting -n default"}},
		},
		{
			name:         "no pods match the selector",
			cluster:      Cluster{Selector: "app=no-such-gateway"},
			want:         with(map[string]Verdict{CheckPods: Fail, CheckMetricsPort: Skip}),
			wantInDetail: map[string][]string{CheckPods: {"no pods labelled app=no-such-gateway in namespace default"}},
			wantInFix:    map[string][]string{CheckPods: {"app: no-such-gateway", "--all-namespaces"}},
		},
		{
			name:         "pods looked for in every namespace",
			cluster:      Cluster{AllNamespaces: true},
			want:         good,
			wantInDetail: map[string][]string{CheckPods: {"Ready in any namespace: default/gw-0, default/gw-1"}},
		},
		{
			name:    "the doctor may not create SubjectAccessReviews",
			cluster: Cluster{Config: env.limited},
			want:    with(map[string]Verdict{CheckMetricsRBAC: Warn, CheckSecretRBAC: Warn}),
			wantInDetail: map[string][]string{
				CheckCluster:     {"as system:serviceaccount:default:doctor-limited"},
				CheckMetricsRBAC: {"could not check: system:serviceaccount:default:doctor-limited may not create subjectaccessreviews"},
				CheckSecretRBAC:  {"could not check"},
			},
		},
		{
			name:         "Managed Prometheus installed, nothing selects the pods",
			setup:        env.installGMP,
			want:         with(map[string]Verdict{CheckMonitoring: Fail}),
			wantInDetail: map[string][]string{CheckMonitoring: {"no ClusterPodMonitoring or PodMonitoring selects the pods labelled app=inference-gateway-ext-proc"}},
			wantInFix:    map[string][]string{CheckMonitoring: {"deploy/monitoring/clusterpodmonitoring.yaml"}},
		},
		{
			name: "Google's ClusterPodMonitoring selects the pods",
			setup: func(t *testing.T) {
				env.installGMP(t)
				cpm, err := monitoring.Objects.ReadFile(monitoring.ClusterPodMonitoringFile)
				if err != nil {
					t.Fatal(err)
				}
				env.apply(t, cpm)
			},
			want: with(map[string]Verdict{CheckMonitoring: Pass}),
			wantInDetail: map[string][]string{CheckMonitoring: {
				"selected by ClusterPodMonitoring inference-optimized-gateway-monitoring (port metrics, secret default/" + ReaderSecret + ")",
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			o := Options{URL: env.metricsURL, Token: tc.token, Cluster: &tc.cluster}
			if o.Token == nil {
				o.Token = SecretToken{Name: ReaderSecret}
			}
			if tc.cluster.Config == nil && tc.cluster.Kubeconfig == "" {
				o.Cluster.Config = env.cp.AdminConfig()
			}
			r := run(t, o)
			for deadline := time.Now().Add(60 * time.Second); tc.healthy && r.Failed() > 0 && time.Now().Before(deadline); {
				r = run(t, o)
			}
			got := map[string]Verdict{}
			for name := range tc.want {
				if c, ok := r.Find(name); ok {
					got[name] = c.Verdict
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s\n%s", diff, format(r))
			}
			if tc.healthy && r.Failed() > 0 {
				t.Errorf("Failed() = %d, want 0\n%s", r.Failed(), format(r))
			}
			for name, subs := range tc.wantInDetail {
				c, _ := r.Find(name)
				for _, sub := range subs {
					if !strings.Contains(c.Detail, sub) {
						t.Errorf("%s detail %q lacks %q", name, c.Detail, sub)
					}
				}
			}
			for name, subs := range tc.wantInFix {
				c, _ := r.Find(name)
				for _, sub := range subs {
					if !strings.Contains(c.Fix, sub) {
						t.Errorf("%s fix %q lacks %q", name, c.Fix, sub)
					}
				}
			}
			for _, c := range r.Checks {
				if c.Verdict == Fail && c.Fix == "" {
					t.Errorf("failed check %s has no fix", c.Name)
				}
			}
			if strings.Contains(format(r), env.token) {
				t.Error("the report prints the token")
			}
		})
	}
}
