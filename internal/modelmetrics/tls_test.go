package modelmetrics

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/testca"
)

// TestScrapeOnceOverTLS scrapes a model server that only speaks HTTPS and
// requires a client certificate: with Options.TLS the metrics and models
// arrive; without it the scrape fails.
func TestScrapeOnceOverTLS(t *testing.T) {
	t.Parallel()
	ca := testca.New(t, "scrape-ca")
	f := &fakeServer{engine: pool.EngineVLLM}
	exposition, models := readTestdata(t, "vllm_v1.txt"), testModels
	f.exposition.Store(&exposition)
	f.models.Store(&models)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serveHTTP))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server(t, "model-server").TLSCertificate(t)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	spec := pool.Spec{Name: "tls", Address: strings.TrimPrefix(srv.URL, "https://"), Engine: pool.EngineVLLM}

	client := ca.Client(t, "gateway").TLSCertificate(t)
	s := NewScraper(Options{Interval: time.Second, TLS: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client}}})
	ep := pool.NewEndpoint(spec)
	if err := s.ScrapeOnce(t.Context(), ep); err != nil {
		t.Fatalf("ScrapeOnce over TLS: %v", err)
	}
	if ep.Metrics() == nil || len(ep.Models()) == 0 {
		t.Fatalf("over TLS: metrics %v, models %v; want both", ep.Metrics(), ep.Models())
	}

	plain := NewScraper(Options{Interval: time.Second})
	ep2 := pool.NewEndpoint(spec)
	if err := plain.ScrapeOnce(t.Context(), ep2); err == nil {
		t.Fatal("plain-HTTP scrape of an HTTPS server succeeded")
	}
	if ep2.Metrics() != nil {
		t.Error("plain-HTTP scrape published metrics")
	}
}
