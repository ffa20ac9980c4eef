package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBadInput(t *testing.T) {
	f := startFleet(t, 1, func(int) []string { return []string{"--time-scale", "20"} }, "limits:\n  maxBodyBytes: 4096\n")
	big := `{"model":"` + baseModel + `","prompt":"` + strings.Repeat("a", 5000) + `"}`
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantCode                 string
	}{
		{name: "invalid json", method: "POST", path: "/v1/chat/completions", body: `{"model":`, wantStatus: 400},
		{name: "not an object", method: "POST", path: "/v1/completions", body: `[1,2]`, wantStatus: 400},
		{name: "missing model", method: "POST", path: "/v1/completions", body: `{"prompt":"hi"}`, wantStatus: 400},
		{name: "model not a string", method: "POST", path: "/v1/completions", body: `{"model":7,"prompt":"hi"}`, wantStatus: 400},
		{name: "chat without messages", method: "POST", path: "/v1/chat/completions", body: `{"model":"` + baseModel + `"}`, wantStatus: 400},
		{name: "unknown model", method: "POST", path: "/v1/completions", body: `{"model":"gpt-17","prompt":"hi"}`, wantStatus: 404, wantCode: "model_not_found"},
		{name: "body too large", method: "POST", path: "/v1/completions", body: big, wantStatus: 413},
		{name: "wrong method", method: "GET", path: "/v1/completions", wantStatus: 405},
		{name: "unknown path", method: "POST", path: "/v1/nothing", body: `{}`, wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.gw.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			_, _ = io.Copy(buf, resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.wantStatus, buf)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			e := decodeError(t, buf.String())
			if tc.wantCode != "" && (e.Error.Code == nil || *e.Error.Code != tc.wantCode) {
				t.Errorf("code = %v, want %q", e.Error.Code, tc.wantCode)
			}
		})
	}
	// The gateway is still healthy and serving after the bad input.
	if status, body := postJSON(t, f.gw.URL+"/v1/completions", `{"model":"`+baseModel+`","prompt":"ok","max_tokens":1}`, nil); status != 200 {
		t.Fatalf("after bad input: %d %s", status, body)
	}
	// Every inference request counts in request_total, errors too, so the
	// error ratio stays within [0, 1].
	eventually(t, 5*time.Second, "7 errors and 8 requests counted", func() bool {
		fams := scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token)
		total, errs := sum(fams, "inference_objective_request_total"), sum(fams, "inference_objective_request_error_total")
		return errs == 7 && total == 8
	})
}
