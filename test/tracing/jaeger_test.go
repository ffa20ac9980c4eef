package tracing

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/proctest"
)

// jaegerVersion must match the Makefile's JAEGER_VERSION.
const jaegerVersion = "v1.75.0"

// requireJaeger returns the Jaeger binary: $INFERGATE_JAEGER, else the
// cached build. Missing, the test fails under CI=true and is skipped
// otherwise.
func requireJaeger(t *testing.T) string {
	t.Helper()
	path := os.Getenv("INFERGATE_JAEGER")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "infergate", "bin", "jaeger-"+jaegerVersion)
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return path
	}
	const hint = "run `make jaeger` (hack/ensure-jaeger.sh) to build it"
	if os.Getenv("CI") == "true" {
		t.Fatalf("jaeger not found at %s (CI=true, so this fails instead of skipping); %s", path, hint)
	}
	t.Skipf("jaeger not found at %s; %s", path, hint)
	return ""
}

// jaeger is a running Jaeger all-in-one.
type jaeger struct {
	*proctest.Proc
	// OTLPHTTP is the OTLP/HTTP receiver's base URL.
	OTLPHTTP string
	// OTLPGRPC is the OTLP/gRPC receiver's URL.
	OTLPGRPC string
	// Query is the query service's base URL (/api/traces/{id}).
	Query string
}

// jaegerConfig is Jaeger's configuration: OTLP receivers, memory storage and
// the query service, every listener on 127.0.0.1 (its defaults bind about
// 13 fixed ports, some on all interfaces), no internal metrics listener.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 50ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// startJaeger starts Jaeger on free loopback ports and waits until its query
// service answers.
func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	bin := requireJaeger(t)
	qHTTP, qGRPC, oGRPC, oHTTP := freePort(t), freePort(t), freePort(t), freePort(t)
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, jaegerConfig, qHTTP, qGRPC, oGRPC, oHTTP), 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := proctest.Start(t, bin, nil, "--config", "file:"+path)
	j := &jaeger{
		Proc:     p,
		OTLPHTTP: fmt.Sprintf("http://127.0.0.1:%d", oHTTP),
		OTLPGRPC: fmt.Sprintf("http://127.0.0.1:%d", oGRPC),
		Query:    fmt.Sprintf("http://127.0.0.1:%d", qHTTP),
	}
	proctest.Eventually(t, 60*time.Second, "jaeger to answer", func() error {
		if p.Exited() {
			t.Fatalf("jaeger exited:\n%s", p.Output())
		}
		resp, err := http.Get(j.Query + "/api/services")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		// The OTLP receiver must be up too.
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", oHTTP))
		if err != nil {
			return err
		}
		return c.Close()
	})
	return j
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// jTrace is a trace as Jaeger's query API (/api/traces/{id}) returns it.
type jTrace struct {
	TraceID   string              `json:"traceID"`
	Spans     []jSpan             `json:"spans"`
	Processes map[string]jProcess `json:"processes"`
}

// jSpan is one span of a [jTrace].
type jSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []jTag `json:"tags"`
	Logs []struct {
		Fields []jTag `json:"fields"`
	} `json:"logs"`
	ProcessID string `json:"processID"`
}

// jTag is a span attribute or event field.
type jTag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// jProcess is the resource a span came from.
type jProcess struct {
	ServiceName string `json:"serviceName"`
}

// parent returns the span's parent span ID, "" for a root.
func (s jSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// tag returns the value of attribute key and whether the span has it.
func (s jSpan) tag(key string) (any, bool) {
	for _, tg := range s.Tags {
		if tg.Key == key {
			return tg.Value, true
		}
	}
	return nil, false
}

// hasEvent reports whether the span has an event named name.
func (s jSpan) hasEvent(name string) bool {
	for _, l := range s.Logs {
		for _, f := range l.Fields {
			if f.Key == "event" && f.Value == name {
				return true
			}
		}
	}
	return false
}

// getTrace fetches trace id; raw is the response body.
func (j *jaeger) getTrace(id string) (tr jTrace, raw []byte, err error) {
	resp, err := http.Get(j.Query + "/api/traces/" + id)
	if err != nil {
		return tr, nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data []jTrace `json:"data"`
	}
	dec := json.NewDecoder(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return tr, nil, fmt.Errorf("GET /api/traces/%s: status %d", id, resp.StatusCode)
	}
	var rawMsg json.RawMessage
	if err := dec.Decode(&rawMsg); err != nil {
		return tr, nil, err
	}
	if err := json.Unmarshal(rawMsg, &body); err != nil {
		return tr, nil, err
	}
	if len(body.Data) != 1 {
		return tr, nil, fmt.Errorf("GET /api/traces/%s: %d traces", id, len(body.Data))
	}
	return body.Data[0], rawMsg, nil
}

// waitTrace polls Jaeger until trace id holds spans named each of names
// (with multiplicity), and returns it.
func (j *jaeger) waitTrace(t *testing.T, id string, names ...string) (jTrace, []byte) {
	t.Helper()
	var tr jTrace
	var raw []byte
	proctest.Eventually(t, 30*time.Second, "trace "+id+" in jaeger", func() error {
		var err error
		tr, raw, err = j.getTrace(id)
		if err != nil {
			return err
		}
		want := map[string]int{}
		for _, n := range names {
			want[n]++
		}
		for _, s := range tr.Spans {
			want[s.OperationName]--
		}
		for n, c := range want {
			if c > 0 {
				return errors.New("span " + n + " missing")
			}
		}
		return nil
	})
	return tr, raw
}
