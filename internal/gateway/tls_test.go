package gateway

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/testca"
)

// TestNewFailsOnUnreadableTLSFiles checks that a bad TLS file stops the
// gateway at start with an error naming the setting and the file.
func TestNewFailsOnUnreadableTLSFiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	ca := testca.New(t, "gw-ca")
	certFile, keyFile := ca.Server(t, "gw").Write(t, dir, "gw")
	caFile := ca.WriteCA(t, dir, "ca.crt")
	missing := filepath.Join(dir, "missing.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  func(c *config.Config)
		want []string
	}{
		{"proxy certificate missing", func(c *config.Config) {
			c.TLS.Proxy = config.KeyPair{CertFile: missing, KeyFile: keyFile}
		}, []string{"tls.proxy", missing}},
		{"metrics key garbage", func(c *config.Config) {
			c.TLS.Metrics = config.KeyPair{CertFile: certFile, KeyFile: garbage}
		}, []string{"tls.metrics", garbage}},
		{"upstream CA garbage", func(c *config.Config) {
			c.Upstream.TLS = config.UpstreamTLS{Enabled: true, CAFile: garbage}
		}, []string{"upstream.tls", garbage}},
		{"upstream client key missing", func(c *config.Config) {
			c.Upstream.TLS = config.UpstreamTLS{Enabled: true, CAFile: caFile, CertFile: certFile, KeyFile: missing}
		}, []string{"upstream.tls", missing}},
	}
	for _, tc := range tests {
		cfg := testConfig(t, ctx)
		tc.set(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: config invalid: %v", tc.name, err)
		}
		_, err := New(cfg, Options{})
		if err == nil {
			t.Errorf("%s: New succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}
