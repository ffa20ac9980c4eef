package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "demo.token")
	p, _ := startProc(t, regexp.MustCompile(`Press Ctrl-C to stop`),
		"demo", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--token-file", tokenFile, "--load", "--time-scale", "20")
	out := p.Output()
	proxy := regexp.MustCompile(`OpenAI proxy:\s+(http://\S+)/v1`).FindStringSubmatch(out)
	metrics := regexp.MustCompile(`Metrics:\s+(http://\S+)/metrics`).FindStringSubmatch(out)
	dash := regexp.MustCompile(`Dashboard:\s+(http://\S+)/dashboard\s+\(.*log in with the token from (\S+)\)`).FindStringSubmatch(out)
	if proxy == nil || metrics == nil || dash == nil || !strings.Contains(out, "curl") {
		t.Fatalf("demo did not print its addresses (proxy, metrics, dashboard) and curl commands:\n%s", out)
	}
	if dash[1] != metrics[1] || dash[2] != tokenFile {
		t.Errorf("dashboard at %s with the token from %s; want the metrics listener %s and %s", dash[1], dash[2], metrics[1], tokenFile)
	}

	st, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(tokenFile)
	token := strings.TrimSpace(string(raw))
	if len(token) < 32 {
		t.Fatalf("token %d chars, want a long random token", len(token))
	}

	status, body := postJSON(t, proxy[1]+"/v1/chat/completions", `{"model":"llama","messages":[{"role":"user","content":"Hello!"}],"max_tokens":8}`, nil)
	if status != http.StatusOK || !strings.Contains(body, `"chat.completion"`) {
		t.Fatalf("demo chat completion: %d %s", status, body)
	}
	if code, _ := get(t, metrics[1]+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("metrics without token: %d, want 401", code)
	}
	// The printed dashboard URL serves the dashboard: its login page
	// without the token, the dashboard itself with it.
	if code, body := get(t, dash[1]+"/dashboard", ""); code != http.StatusUnauthorized || !strings.Contains(body, "<form") {
		t.Errorf("dashboard without token: %d, want 401 with the login form (%.200s)", code, body)
	}
	if code, body := get(t, dash[1]+"/dashboard", token); code != http.StatusOK {
		t.Errorf("dashboard with token: %d, want 200 (%.200s)", code, body)
	}
	// The background load moves the metrics.
	eventually(t, 30*time.Second, "background load to show up in the metrics", func() bool {
		return sum(scrape(t, metrics[1]+"/metrics", token), "inference_objective_request_total") >= 5
	})
	if strings.Contains(p.Output(), token) {
		t.Error("the demo logged its token")
	}
	p.Signal(syscall.SIGINT)
	if err, ok := p.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("demo did not exit cleanly on Ctrl-C (exited=%v err=%v):\n%s", ok, err, p.Output())
	}
}
