package kube

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/kubetest"
)

// helmGateway is the gateway of release "infergate" in namespace ns.
func helmGateway(ns string) deployedGateway {
	return deployedGateway{
		namespace:   ns,
		name:        "infergate",
		image:       gatewayImage,
		pools:       []string{examplePool},
		authEnabled: true,
		authMode:    "kubernetes",
	}
}

// googleObjectsIn returns Google's published objects (deploy/rbac and the
// ClusterPodMonitoring) moved from namespace default to ns, the way the
// chart installs them into its release's namespace: object namespaces,
// ServiceAccount subjects and the monitored Secret's namespace; the
// collector's own namespace stays.
func googleObjectsIn(t *testing.T, ns string, m objectList) objectList {
	t.Helper()
	var out objectList
	for _, o := range m {
		o = o.DeepCopy()
		if o.GetNamespace() == "default" {
			o.SetNamespace(ns)
		}
		if subjects, ok, _ := unstructured.NestedSlice(o.Object, "subjects"); ok {
			for _, s := range subjects {
				if s := s.(map[string]any); s["namespace"] == "default" {
					s["namespace"] = ns
				}
			}
			if err := unstructured.SetNestedSlice(o.Object, subjects, "subjects"); err != nil {
				t.Fatal(err)
			}
		}
		if o.GetKind() == "ClusterPodMonitoring" {
			eps, _, _ := unstructured.NestedSlice(o.Object, "spec", "endpoints")
			for _, ep := range eps {
				if err := unstructured.SetNestedField(ep.(map[string]any), ns, "authorization", "credentials", "secret", "namespace"); err != nil {
					t.Fatal(err)
				}
			}
			if err := unstructured.SetNestedSlice(o.Object, eps, "spec", "endpoints"); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, o)
	}
	return out
}

// sameObjects checks that m holds each object of want, equal to it.
func sameObjects(t *testing.T, m, want objectList) {
	t.Helper()
	for _, o := range want {
		got := m.find(o.GetKind(), o.GetNamespace(), o.GetName())
		if got == nil && clusterScopedKinds[o.GetKind()] {
			got = m.find(o.GetKind(), "", o.GetName())
		}
		if got == nil {
			t.Errorf("no %s", renderedID(o))
			continue
		}
		if diff := cmp.Diff(normalizedObject(t, o), normalizedObject(t, got)); diff != "" {
			t.Errorf("%s differs from Google's published object (-published +rendered):\n%s", renderedID(o), diff)
		}
	}
}

// TestHelmRender renders the chart with the values users set and checks
// each rendering: the gateway keeps its contract, Google's objects are the
// published ones in the release's namespace, each monitoring provider adds
// exactly its objects, and the chart's CRDs are deploy/crds'.
func TestHelmRender(t *testing.T) {
	r := requireRenderer(t)
	metricsReader := readObjects(t, metricsReaderYAML)
	var readerObjects, gmpBindingObject objectList // Google's, without and with the collector binding
	for _, o := range metricsReader {
		if o.GetName() == gmpBinding {
			gmpBindingObject = append(gmpBindingObject, o)
		} else {
			readerObjects = append(readerObjects, o)
		}
	}
	cpm := readObjects(t, cpmYAML)
	crds := readCRDs(t)
	monitoringKinds := []string{"ClusterPodMonitoring", "PodMonitoring", "ServiceMonitor"}

	tests := []struct {
		name    string
		ns      string
		set     []string
		gateway deployedGateway
		// same are published objects the rendering must hold as they are
		// (moved to ns).
		same objectList
		// monitoring lists the monitoring objects' kinds.
		monitoring []string
		check      func(t *testing.T, m objectList, cfg *config.Config)
	}{
		{
			name:    "defaults",
			ns:      "default",
			gateway: helmGateway("default"),
			same:    append(slices.Clone(readerObjects), crds...),
			check: func(t *testing.T, m objectList, _ *config.Config) {
				if m.find("ClusterRoleBinding", "", gmpBinding) != nil {
					t.Errorf("collector binding without a GKE provider")
				}
				if len(m.ofKind("InferencePool")) != 0 {
					t.Error("example rendered by default")
				}
			},
		},
		{
			name:       "gke with example",
			ns:         "inference",
			set:        []string{"monitoring.provider=gke", "example.enabled=true"},
			gateway:    helmGateway("inference"),
			same:       slices.Concat(readerObjects, gmpBindingObject, cpm),
			monitoring: []string{"ClusterPodMonitoring"},
			check: func(t *testing.T, m objectList, _ *config.Config) {
				checkExample(t, m, "inference", gatewayImage, []string{examplePool})
			},
		},
		{
			name:       "gke-autopilot",
			ns:         "inference",
			set:        []string{"monitoring.provider=gke-autopilot"},
			gateway:    helmGateway("inference"),
			same:       slices.Concat(readerObjects, cpm),
			monitoring: []string{"ClusterPodMonitoring"},
			check: func(t *testing.T, m objectList, _ *config.Config) {
				b := m.get(t, "ClusterRoleBinding", "", autopilotBinding)
				subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
				want := []any{map[string]any{"kind": "ServiceAccount", "name": "collector", "namespace": "gke-gmp-system"}}
				if diff := cmp.Diff(want, subjects); diff != "" {
					t.Errorf("collector binding subjects (-want +got):\n%s", diff)
				}
				if m.find("ClusterRoleBinding", "", gmpBinding) != nil {
					t.Error("gmp-system collector binding on Autopilot")
				}
			},
		},
		{
			name:       "prometheus-operator",
			ns:         "monitoring-test",
			set:        []string{"monitoring.provider=prometheus-operator", "monitoring.serviceMonitor.labels.release=kube-prometheus-stack"},
			gateway:    helmGateway("monitoring-test"),
			same:       readerObjects,
			monitoring: []string{"ServiceMonitor"},
			check: func(t *testing.T, m objectList, _ *config.Config) {
				sm := m.get(t, "ServiceMonitor", "monitoring-test", "inference-optimized-gateway-monitoring")
				checks := []struct {
					path []string
					want string
				}{
					{[]string{"metadata", "labels", "release"}, "kube-prometheus-stack"},
					{[]string{"spec", "selector", "matchLabels", "app"}, gatewayPodLabel},
				}
				for _, c := range checks {
					if got, _, _ := unstructured.NestedString(sm.Object, c.path...); got != c.want {
						t.Errorf("ServiceMonitor %s = %q; want %q", strings.Join(c.path, "."), got, c.want)
					}
				}
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				if len(eps) != 1 {
					t.Fatalf("ServiceMonitor endpoints %v; want one", eps)
				}
				ep := eps[0].(map[string]any)
				if port, _, _ := unstructured.NestedString(ep, "port"); port != "metrics" {
					t.Errorf("ServiceMonitor port %q; want metrics", port)
				}
				if name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name"); name != readerSecret {
					t.Errorf("ServiceMonitor token Secret %q; want %q", name, readerSecret)
				}
				if scheme, _, _ := unstructured.NestedString(ep, "scheme"); scheme != "http" {
					t.Errorf("ServiceMonitor scheme %q; want http (metrics TLS is off)", scheme)
				}
				if _, ok := ep["tlsConfig"]; ok {
					t.Errorf("ServiceMonitor tlsConfig %v without metrics TLS", ep["tlsConfig"])
				}
			},
		},
		{
			name:       "tls",
			ns:         "secure",
			set:        tlsValues,
			gateway:    tlsGateway("secure"),
			same:       readerObjects,
			monitoring: []string{"ServiceMonitor"},
			check: func(t *testing.T, m objectList, cfg *config.Config) {
				checkUpstreamTLS(t, m, "secure", cfg)
				sm := m.get(t, "ServiceMonitor", "secure", "inference-optimized-gateway-monitoring")
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				if len(eps) != 1 {
					t.Fatalf("ServiceMonitor endpoints %v; want one", eps)
				}
				ep := eps[0].(map[string]any)
				want := map[string]any{
					"ca":         map[string]any{"secret": map[string]any{"name": "gateway-tls", "key": "ca.crt"}},
					"serverName": "infergate.secure.svc",
				}
				if diff := cmp.Diff("https", ep["scheme"]); diff != "" {
					t.Errorf("ServiceMonitor scheme (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, ep["tlsConfig"]); diff != "" {
					t.Errorf("ServiceMonitor tlsConfig (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "tls, own ServiceMonitor tlsConfig",
			ns:   "default",
			set: []string{
				"tls.metrics.secretName=metrics-tls", "monitoring.provider=prometheus-operator",
				"monitoring.serviceMonitor.tlsConfig.ca.configMap.name=trust",
				"monitoring.serviceMonitor.tlsConfig.ca.configMap.key=ca.pem",
				"monitoring.serviceMonitor.tlsConfig.serverName=gw.example.com",
			},
			gateway: func() deployedGateway {
				g := helmGateway("default")
				g.metricsTLS = "metrics-tls"
				return g
			}(),
			same:       readerObjects,
			monitoring: []string{"ServiceMonitor"},
			check: func(t *testing.T, m objectList, cfg *config.Config) {
				if cfg.Upstream.TLS.Enabled {
					t.Error("upstream TLS on by default")
				}
				sm := m.get(t, "ServiceMonitor", "default", "inference-optimized-gateway-monitoring")
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				ep := eps[0].(map[string]any)
				want := map[string]any{
					"ca":         map[string]any{"configMap": map[string]any{"name": "trust", "key": "ca.pem"}},
					"serverName": "gw.example.com",
				}
				if diff := cmp.Diff(want, ep["tlsConfig"]); diff != "" {
					t.Errorf("ServiceMonitor tlsConfig (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "static auth",
			ns:   "default",
			set:  []string{"auth.mode=static", "auth.static.secretName=gateway-tokens"},
			gateway: func() deployedGateway {
				g := helmGateway("default")
				g.authMode = "static"
				return g
			}(),
			same: readerObjects,
			check: func(t *testing.T, m objectList, _ *config.Config) {
				dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
				i := slices.IndexFunc(dep.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
					return v.Secret != nil && v.Secret.SecretName == "gateway-tokens"
				})
				if i < 0 {
					t.Error("token Secret gateway-tokens not mounted")
				}
				if len(m.ofKind("ClusterRole")) != 2 {
					t.Errorf("ClusterRoles %v; want only Google's two (no review permissions in static mode)", m.ofKind("ClusterRole").ids())
				}
			},
		},
		{
			name: "auth off, no metrics reader",
			ns:   "default",
			set:  []string{"auth.enabled=false", "monitoring.metricsReader.create=false"},
			gateway: func() deployedGateway {
				g := helmGateway("default")
				g.authEnabled = false
				return g
			}(),
			check: func(t *testing.T, m objectList, _ *config.Config) {
				for _, o := range metricsReader {
					if m.find(o.GetKind(), "", o.GetName()) != nil || m.find(o.GetKind(), "default", o.GetName()) != nil {
						t.Errorf("%s rendered with monitoring.metricsReader.create=false", renderedID(o))
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := r.helmTemplate(t, "infergate", tc.ns, tc.set...)
			cfg := checkDeployedGateway(t, m, tc.gateway)
			if tc.gateway.authEnabled && tc.gateway.authMode == "static" && cfg.Metrics.Auth.TokenFile == "" {
				t.Error("static auth without a token file")
			}
			sameObjects(t, m, googleObjectsIn(t, tc.ns, tc.same))
			var kinds []string
			for _, k := range monitoringKinds {
				for range m.ofKind(k) {
					kinds = append(kinds, k)
				}
			}
			if diff := cmp.Diff(tc.monitoring, kinds); diff != "" {
				t.Errorf("monitoring objects (-want +got):\n%s", diff)
			}
			for _, o := range m {
				if ns := o.GetNamespace(); ns != tc.ns && ns != "" {
					t.Errorf("%s is outside the release namespace %s", renderedID(o), tc.ns)
				}
			}
			tc.check(t, m, cfg)
		})
	}

	t.Run("same config as kustomize", func(t *testing.T) {
		base := r.kustomizeBuild(t, "base")
		kcfg := checkDeployedGateway(t, base, kustomizeGateway)
		hcfg := checkDeployedGateway(t, r.helmTemplate(t, "infergate", "default"), helmGateway("default"))
		if diff := cmp.Diff(kcfg, hcfg); diff != "" {
			t.Errorf("the chart's default config differs from deploy/kustomize/base's (-kustomize +helm):\n%s", diff)
		}
	})

	t.Run("invalid values", func(t *testing.T) {
		tests := []struct {
			name    string
			set     []string
			wantErr string
		}{
			{name: "unknown provider", set: []string{"monitoring.provider=datadog"}, wantErr: "/monitoring/provider"},
			{name: "unknown auth mode", set: []string{"auth.mode=oidc"}, wantErr: "/auth/mode"},
			{name: "static without Secret", set: []string{"auth.mode=static"}, wantErr: "auth.static.secretName"},
			{name: "no pools", set: []string{"pools=null"}, wantErr: "set pools or poolSelector"},
			{name: "example pool not served", set: []string{"example.enabled=true", "pools={other}"}, wantErr: "is not in pools"},
			{name: "zero drain", set: []string{"shutdown.gracePeriodSeconds=0"}, wantErr: "/shutdown/gracePeriodSeconds"},
			{name: "bad TLS Secret name", set: []string{"tls.proxy.secretName=Not_A_Name"}, wantErr: "/tls/proxy/secretName"},
			{name: "unknown TLS key", set: []string{"tls.metrics.certFile=/tmp/x"}, wantErr: "/tls/metrics"},
			{name: "upstream CA without TLS", set: []string{"upstream.tls.caSecretName=model-ca"}, wantErr: "need upstream.tls.enabled=true"},
			{name: "upstream server name without TLS", set: []string{"upstream.tls.serverName=vllm"}, wantErr: "need upstream.tls.enabled=true"},
			{name: "upstream TLS with the example", set: []string{"upstream.tls.enabled=true", "example.enabled=true"}, wantErr: "simulators serve plain HTTP"},
			{name: "metrics TLS with GKE", set: []string{"tls.metrics.secretName=gateway-tls", "monitoring.provider=gke"}, wantErr: "not supported with monitoring.provider gke"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.helmTemplateErr("infergate", "default", tc.set...)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("helm template %v: error %v; want one containing %q", tc.set, err, tc.wantErr)
				}
			})
		}
	})
}

// TestHelmChartCRDs checks that the chart's crds/ directory is a copy of
// deploy/crds: Helm packages only the chart's own files, so `make crds`
// copies them there.
func TestHelmChartCRDs(t *testing.T) {
	want, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in %s: %v", crdDir, err)
	}
	got, err := filepath.Glob(filepath.Join(helmChartDir, "crds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	base := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if diff := cmp.Diff(base(want), base(got)); diff != "" {
		t.Fatalf("chart crds/ files (-deploy/crds +chart); run `make crds`:\n%s", diff)
	}
	for _, f := range want {
		a, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(helmChartDir, "crds", filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("chart crds/%s differs from deploy/crds; run `make crds`", filepath.Base(f))
		}
	}
}

// TestHelmApply installs two releases of the chart into a real control
// plane, the way `helm install` would apply them, and checks the result:
// everything is accepted and stored as written; the release in namespace
// inference (GKE monitoring, example on) gets a working metrics-reader
// token and a gateway ServiceAccount with the access it needs in its own
// namespace only; a second release (prometheus-operator, no second set of
// Google's cluster-wide objects) coexists with it.
func TestHelmApply(t *testing.T) {
	r := requireRenderer(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := cp.AdminConfig()
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	installMonitoringCRDs(ctx, t, cfg)

	t.Run("gke release", func(t *testing.T) {
		newNamespace(ctx, t, admin, "inference")
		stored := applyObjects(ctx, t, cfg, r.helmTemplate(t, "infergate", "inference", "monitoring.provider=gke", "example.enabled=true"))
		stored.get(t, "ClusterPodMonitoring", "", "inference-optimized-gateway-monitoring")
		stored.get(t, "InferencePool", "inference", examplePool)

		token := waitForTokenIn(ctx, t, admin, "inference", readerSecret)
		tr, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "system:serviceaccount:inference:" + readerSA; !tr.Status.Authenticated || tr.Status.User.Username != want {
			t.Errorf("TokenReview of the reader token: authenticated=%v user %q; want %q", tr.Status.Authenticated, tr.Status.User.Username, want)
		}
		t.Run("reader access", func(t *testing.T) {
			checkSAAccess(ctx, t, admin, "inference", readerSA, []accessCheck{
				{name: "get /metrics", nonRes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, allow: true},
			})
		})
		t.Run("collector access", func(t *testing.T) {
			checkSAAccess(ctx, t, admin, "gmp-system", "collector", []accessCheck{{
				name:  "reads the token Secret",
				res:   &authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "inference", Name: readerSecret},
				allow: true,
			}})
		})
		t.Run("gateway access", func(t *testing.T) {
			checkSAAccess(ctx, t, admin, "inference", "infergate", deployedGatewayAccess("inference", "default"))
		})
	})

	t.Run("tls release", func(t *testing.T) {
		newNamespace(ctx, t, admin, "secure")
		stored := applyObjects(ctx, t, cfg, r.helmTemplate(t, "infergate", "secure", append(slices.Clone(tlsValues), "monitoring.metricsReader.create=false")...))
		// The stored objects, defaults filled in by the API server, still
		// hold the TLS settings.
		checkDeployedGateway(t, stored, tlsGateway("secure"))
		sm := stored.get(t, "ServiceMonitor", "secure", "inference-optimized-gateway-monitoring")
		eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		if len(eps) != 1 || eps[0].(map[string]any)["scheme"] != "https" {
			t.Errorf("stored ServiceMonitor endpoints %v; want one with scheme https", eps)
		}
	})

	t.Run("second release", func(t *testing.T) {
		newNamespace(ctx, t, admin, "edge")
		stored := applyObjects(ctx, t, cfg, r.helmTemplate(t, "edge", "edge",
			"monitoring.provider=prometheus-operator", "monitoring.metricsReader.create=false"))
		stored.get(t, "ServiceMonitor", "edge", "inference-optimized-gateway-monitoring")
		checkSAAccess(ctx, t, admin, "edge", "edge-infergate", deployedGatewayAccess("edge", "inference"))
	})
}

// tlsValues turn on every TLS setting of the chart, with a ServiceMonitor.
var tlsValues = []string{
	"tls.proxy.secretName=gateway-tls",
	"tls.metrics.secretName=gateway-tls",
	"upstream.tls.enabled=true",
	"upstream.tls.caSecretName=model-ca",
	"upstream.tls.clientSecretName=gateway-client",
	"upstream.tls.serverName=vllm.secure.svc",
	"monitoring.provider=prometheus-operator",
}

// tlsGateway is the gateway of release "infergate" in namespace ns
// rendered with tlsValues.
func tlsGateway(ns string) deployedGateway {
	g := helmGateway(ns)
	g.proxyTLS, g.metricsTLS = "gateway-tls", "gateway-tls"
	return g
}

// checkUpstreamTLS checks the upstream TLS settings of the tlsValues
// rendering in m: HTTPS to the model servers, the CA and the client
// certificate read from their Secrets' directory mounts, the server name.
func checkUpstreamTLS(t *testing.T, m objectList, ns string, cfg *config.Config) {
	t.Helper()
	u := cfg.Upstream.TLS
	if !u.Enabled || u.InsecureSkipVerify || u.ServerName != "vllm.secure.svc" {
		t.Errorf("config upstream.tls %+v; want enabled, verifying vllm.secure.svc", u)
	}
	pod := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", ns, "infergate")).Spec.Template.Spec
	c := pod.Containers[0]
	checkSecretFile(t, pod, c, "upstream.tls.caFile", u.CAFile, "model-ca", "ca.crt")
	checkSecretFile(t, pod, c, "upstream.tls.certFile", u.CertFile, "gateway-client", corev1.TLSCertKey)
	checkSecretFile(t, pod, c, "upstream.tls.keyFile", u.KeyFile, "gateway-client", corev1.TLSPrivateKeyKey)
}

// waitForTokenIn waits for the token controller to fill the
// service-account-token Secret namespace/name and returns the token.
func waitForTokenIn(ctx context.Context, t *testing.T, cs kubernetes.Interface, namespace, name string) string {
	t.Helper()
	tok, err := kubetest.WaitForToken(ctx, cs, namespace, name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
