package config

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTLS(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(minimalYAML + `
tls:
  proxy: {certFile: /p.crt, keyFile: /p.key}
  metrics: {certFile: /m.crt, keyFile: /m.key}
upstream:
  tls: {enabled: true, caFile: /ca.crt, certFile: /c.crt, keyFile: /c.key, serverName: vllm.internal}
`))
	if err != nil {
		t.Fatal(err)
	}
	wantTLS := TLS{Proxy: KeyPair{CertFile: "/p.crt", KeyFile: "/p.key"}, Metrics: KeyPair{CertFile: "/m.crt", KeyFile: "/m.key"}}
	if diff := cmp.Diff(wantTLS, c.TLS); diff != "" {
		t.Errorf("tls (-want +got):\n%s", diff)
	}
	wantUp := UpstreamTLS{Enabled: true, CAFile: "/ca.crt", CertFile: "/c.crt", KeyFile: "/c.key", ServerName: "vllm.internal"}
	if diff := cmp.Diff(wantUp, c.Upstream.TLS); diff != "" {
		t.Errorf("upstream.tls (-want +got):\n%s", diff)
	}
	if !c.Upstream.TLS.ClientPair().IsSet() {
		t.Error("upstream client pair: IsSet() = false")
	}

	d, err := Parse([]byte(minimalYAML))
	if err != nil {
		t.Fatal(err)
	}
	if d.TLS.Proxy.IsSet() || d.TLS.Metrics.IsSet() || d.Upstream.TLS.Enabled {
		t.Errorf("TLS is on by default: %+v, %+v", d.TLS, d.Upstream.TLS)
	}
}

func TestParseTLSValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "half-set listener pairs",
			yaml: "tls: {proxy: {certFile: /p.crt}, metrics: {keyFile: /m.key}}\n",
			want: []string{
				`tls.proxy.keyFile: is required when tls.proxy.certFile is set`,
				`tls.metrics.certFile: is required when tls.metrics.keyFile is set`,
			},
		},
		{
			name: "half-set upstream client pair",
			yaml: "upstream: {tls: {enabled: true, keyFile: /c.key}}\n",
			want: []string{`upstream.tls.certFile: is required when upstream.tls.keyFile is set`},
		},
		{
			name: "upstream settings while disabled",
			yaml: "upstream: {tls: {caFile: /ca.crt}}\n",
			want: []string{`upstream.tls.enabled: must be true when other upstream.tls settings are set (traffic to model servers would stay plain HTTP)`},
		},
		{
			name: "insecure with a CA",
			yaml: "upstream: {tls: {enabled: true, caFile: /ca.crt, insecureSkipVerify: true}}\n",
			want: []string{`upstream.tls.insecureSkipVerify: cannot be combined with upstream.tls.caFile (the CA would not be checked)`},
		},
		{
			name: "unknown key",
			yaml: "tls: {proxy: {certFlie: /p.crt}}\n",
			want: []string{`tls.proxy.certFlie: unknown field on line 9 (did you mean "certFile"?)`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(minimalYAML + tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExampleTLSBlocksParse uncomments the example's commented tls blocks
// and checks that the keys they show are the real ones.
func TestExampleTLSBlocksParse(t *testing.T) {
	t.Parallel()
	lines := strings.Split(string(Example), "\n")
	start := regexp.MustCompile(`^(\s*)# tls:$`)
	n := 0
	for i := 0; i < len(lines); i++ {
		m := start.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		n++
		indent := m[1]
		lines[i] = indent + "tls:"
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], indent+"#   "); j++ {
			lines[j] = indent + strings.TrimPrefix(lines[j], indent+"# ")
		}
	}
	if n != 2 {
		t.Fatalf("found %d commented tls blocks in the example, want 2 (listeners, upstream)", n)
	}
	c, err := Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("the example with its tls blocks uncommented does not parse: %v", err)
	}
	if !c.TLS.Proxy.IsSet() || !c.TLS.Metrics.IsSet() || !c.Upstream.TLS.Enabled || !c.Upstream.TLS.ClientPair().IsSet() || c.Upstream.TLS.CAFile == "" {
		t.Errorf("uncommented example misses settings: %+v, %+v", c.TLS, c.Upstream.TLS)
	}
}
