package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/proctest"
)

// TestAuthThrottle guesses tokens against a running gateway's /metrics from
// one address: after the failure burst (default 10) the gateway answers 429
// with Retry-After, without an INFO line per attempt, while the right token
// from the same address still scrapes; the dashboard login shares the
// budget; and the failures are counted by reason.
func TestAuthThrottle(t *testing.T) {
	_, addr := startSim(t, "sim-auth", "--time-scale", "20")
	gw := startGateway(t, poolYAML(addr))
	metricsURL := gw.MetricsURL + "/metrics"

	wrong := func(i int) string { return fmt.Sprintf("wrong-token-%04d-0123456789", i) }
	attempts, unauthorized := 0, 0
	var retryAfter string
	for ; attempts < 200; attempts++ {
		resp := send(t, http.MethodGet, metricsURL, "Bearer "+wrong(attempts), "")
		if resp.status == http.StatusTooManyRequests {
			retryAfter = resp.header.Get("Retry-After")
			attempts++
			break
		}
		if resp.status != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: status %d, want 401 or 429", attempts, resp.status)
		}
		unauthorized++
	}
	if retryAfter == "" {
		t.Fatalf("no 429 with Retry-After after %d wrong tokens (%d answered 401)", attempts, unauthorized)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds >= 1", retryAfter)
	}
	if unauthorized != 10 {
		t.Errorf("%d wrong tokens answered 401 before the first 429, want the default burst of 10", unauthorized)
	}
	// Keep guessing: every further guess is throttled (at 1 failure/s of
	// refill, a fast loop earns back at most a couple).
	throttled := 1
	for i := range 40 {
		switch resp := send(t, http.MethodGet, metricsURL, "Bearer "+wrong(1000+i), ""); resp.status {
		case http.StatusTooManyRequests:
			throttled++
		case http.StatusUnauthorized:
			unauthorized++
		default:
			t.Fatalf("guess while throttled: status %d", resp.status)
		}
		attempts++
	}
	if throttled < 30 {
		t.Errorf("only %d of 41 guesses past the burst were throttled", throttled)
	}

	// The right token from the same address keeps working.
	if resp := send(t, http.MethodGet, metricsURL, "Bearer "+gw.Token, ""); resp.status != http.StatusOK {
		t.Fatalf("right token from the throttled address: status %d, want 200", resp.status)
	}

	// The dashboard login shares the budget.
	form := url.Values{"token": {wrong(5000)}}.Encode()
	resp := send(t, http.MethodPost, gw.MetricsURL+"/dashboard/login", "", form)
	if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") == "" {
		t.Errorf("dashboard login from the throttled address: status %d, Retry-After %q; want 429 with one", resp.status, resp.header.Get("Retry-After"))
	} else {
		throttled++
	}
	attempts++

	fams := scrape(t, metricsURL, gw.Token)
	reasons := map[string]float64{}
	if f, ok := fams["infergate_auth_failures_total"]; ok {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["listener"] == "metrics" {
				reasons[labels["reason"]] = m.GetCounter().GetValue()
			}
		}
	}
	if got := reasons["invalid"]; got != float64(unauthorized) {
		t.Errorf(`infergate_auth_failures_total{listener="metrics",reason="invalid"} = %v, want %d`, got, unauthorized)
	}
	if got := reasons["throttled"]; got != float64(throttled) {
		t.Errorf(`infergate_auth_failures_total{listener="metrics",reason="throttled"} = %v, want %d`, got, throttled)
	}

	// The log has a bounded number of lines about it, not one per attempt.
	lines := 0
	for line := range strings.SplitSeq(gw.Output(), "\n") {
		if strings.Contains(line, "rejected invalid bearer token") || strings.Contains(line, "throttled authentication attempt") {
			lines++
		}
		if strings.Contains(line, "wrong-token-") || strings.Contains(line, gw.Token) {
			t.Errorf("log line holds a token: %s", line)
		}
	}
	if lines*4 > attempts {
		t.Errorf("%d log lines about %d failed attempts, want far fewer (at most one per reason per second)", lines, attempts)
	}
}

// TestServeRejectsShortTokenFile checks that `infergate serve` refuses a
// token file with a token under 16 bytes, naming the file and line, not the
// token.
func TestServeRejectsShortTokenFile(t *testing.T) {
	dir := t.TempDir()
	const short = "short-token-015" // 15 bytes
	tokenFile := filepath.Join(dir, "metrics-token")
	if err := os.WriteFile(tokenFile, []byte("# the scraper's token\n"+short+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nmetrics:\n  auth:\n    tokenFile: %s\n%s", tokenFile, poolYAML("127.0.0.1:1"))
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := proctest.Start(t, binPath, nil, "serve", "--config", path)
	err, exited := p.Wait(30 * time.Second)
	if !exited {
		t.Fatalf("infergate serve with a 15-byte token is still running:\n%s", p.Output())
	}
	if err == nil {
		t.Errorf("infergate serve exited 0, want an error")
	}
	out := p.Output()
	if !strings.Contains(out, tokenFile) || !strings.Contains(out, "line 2") || !strings.Contains(out, "shorter than 16 bytes") {
		t.Errorf("output does not name the file, the line and the problem:\n%s", out)
	}
	if strings.Contains(out, short) {
		t.Errorf("output holds the token:\n%s", out)
	}
}

// sent is an answer's status and headers.
type sent struct {
	status int
	header http.Header
}

// send makes one request with an optional Authorization header and an
// optional url-encoded form body, and drains the answer.
func send(t *testing.T, method, target, authorization, form string) sent {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return sent{status: resp.StatusCode, header: resp.Header}
}
