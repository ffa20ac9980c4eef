package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAdminHandlerDashboard(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "dashboard "+r.URL.Path)
	})
	tests := []struct {
		name       string
		dashboard  http.Handler
		path       string
		wantStatus int
		wantBody   string
	}{
		{name: "page", dashboard: echo, path: "/dashboard", wantStatus: 200, wantBody: "dashboard /dashboard"},
		{name: "below the page, not guarded by Guard", dashboard: echo, path: "/dashboard/api/state", wantStatus: 200, wantBody: "dashboard /dashboard/api/state"},
		{name: "metrics still guarded", dashboard: echo, path: "/metrics", wantStatus: 401},
		{name: "no dashboard configured", path: "/dashboard", wantStatus: 404},
		{name: "prefix lookalike is not the dashboard", dashboard: echo, path: "/dashboardx", wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(NewAdminHandler(AdminOptions{
				Gatherer:  NewRegistry(),
				Guard:     tokenGuard,
				Dashboard: tc.dashboard,
			}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
		})
	}
}
