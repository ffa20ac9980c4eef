package dashboard

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestDecisionTraceLink(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	decisions := NewDecisions(4)
	untraced := record(1)
	traced := record(2)
	traced.TraceID = id
	decisions.RecordDecision(untraced)
	decisions.RecordDecision(traced)
	for _, tc := range []struct {
		name, template, wantURL string
	}{
		{name: "with a trace UI", template: "http://jaeger:16686/trace/{traceID}", wantURL: "http://jaeger:16686/trace/" + id},
		{name: "without", template: "", wantURL: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Decisions: decisions, TraceURL: tc.template}))
			t.Cleanup(srv.Close)
			_, body := get(t, srv, StatePath, nil)
			var st State
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Decisions) != 2 {
				t.Fatalf("%d decisions, want 2", len(st.Decisions))
			}
			newest, older := st.Decisions[0], st.Decisions[1]
			if newest.TraceID != id || newest.TraceURL != tc.wantURL {
				t.Errorf("traced decision: traceID %q, traceURL %q; want %q, %q", newest.TraceID, newest.TraceURL, id, tc.wantURL)
			}
			if older.TraceID != "" || older.TraceURL != "" {
				t.Errorf("untraced decision: traceID %q, traceURL %q; want empty", older.TraceID, older.TraceURL)
			}
		})
	}
}
