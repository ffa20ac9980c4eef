package openaihttp

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/openai"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestWriteErrorGolden sends every constructor's error over real HTTP and
// compares status, headers and body with testdata/errors.golden.
func TestWriteErrorGolden(t *testing.T) {
	t.Parallel()
	errs := []struct {
		name string
		err  *openai.Error
	}{
		{name: "bad request", err: openai.ErrBadRequest("Invalid value for 'n': must be positive.", "n")},
		{name: "bad request without param", err: openai.ErrBadRequest("Something is wrong.", "")},
		{name: "model not found", err: openai.ErrModelNotFound(`llama "3" <b>`)},
		{name: "body too large", err: openai.ErrBodyTooLarge(16 << 20)},
		{name: "shed", err: openai.ErrShed()},
		{name: "no endpoint", err: openai.ErrNoEndpoint()},
		{name: "upstream", err: openai.ErrUpstream()},
		{name: "upstream timeout", err: openai.ErrUpstreamTimeout()},
		{name: "internal", err: openai.ErrInternal()},
		{name: "nil error", err: nil},
		{name: "custom", err: openai.NewError(http.StatusConflict, "x_error", "c", "p", "line1\nline2\t\"q\"")},
	}
	var got strings.Builder
	for _, tc := range errs {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			WriteError(w, tc.err)
		}))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got.WriteString("== " + tc.name + "\n")
		got.WriteString(resp.Status + "\n")
		for _, h := range []string{"Content-Type", "Content-Length", "X-Content-Type-Options", "Retry-After"} {
			got.WriteString(h + ": " + resp.Header.Get(h) + "\n")
		}
		got.Write(body)

		// The body must decode as the OpenAI error shape.
		var decoded struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &decoded); err != nil {
			t.Errorf("%s: body is not JSON: %v", tc.name, err)
		}
		if tc.err != nil && (decoded.Error.Message != tc.err.Message || decoded.Error.Type != tc.err.Type ||
			(decoded.Error.Param == nil) != (tc.err.Param == "") || (decoded.Error.Code == nil) != (tc.err.Code == "")) {
			t.Errorf("%s: decoded %+v from %+v", tc.name, decoded.Error, *tc.err)
		}
	}
	path := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("error responses differ from %s (-want +got):\n%s", path, diff)
	}
}
