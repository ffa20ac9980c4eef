package proxy

import (
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
)

// FuzzControlHeaders checks that whatever bytes a client puts in the control
// headers, readControlHeaders either returns values that are safe for labels
// and logs (valid UTF-8, no control characters, bounded) or a 400 naming the
// header; and that untrusted headers are all removed.
func FuzzControlHeaders(f *testing.F) {
	f.Add("batch", "sql-lora", "tenant-a", "")
	f.Add("", "sql-lora\xff\xfe", "", "x")
	f.Add("crit\x01", "", "\u2028", "old")
	f.Fuzz(func(t *testing.T, objective, rewrite, fairness, legacyRewrite string) {
		h := http.Header{}
		h[http.CanonicalHeaderKey(exchange.HeaderObjective)] = []string{objective}
		h[http.CanonicalHeaderKey(exchange.HeaderModelRewrite)] = []string{rewrite}
		h[http.CanonicalHeaderKey(exchange.HeaderModelRewriteLegacy)] = []string{legacyRewrite}
		h[http.CanonicalHeaderKey(exchange.HeaderFairnessID)] = []string{fairness}
		v, err := readControlHeaders(h.Clone(), true)
		if err != nil {
			var oe *openai.Error
			if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Param == "" {
				t.Fatalf("error %v, want a 400 naming the header", err)
			}
		} else {
			for _, s := range []string{v.Objective, v.Rewrite, v.FairnessID} {
				if len(s) > exchange.MaxControlValueBytes || !utf8.ValidString(s) || exchange.HasControlChar(s) {
					t.Fatalf("unsafe control value %q accepted", s)
				}
			}
			if rewrite == "" && v.Rewrite != legacyRewrite {
				t.Fatalf("rewrite %q, want the legacy spelling's %q", v.Rewrite, legacyRewrite)
			}
		}
		if _, err := readControlHeaders(h, false); err != nil {
			t.Fatalf("untrusted: %v", err)
		}
		for _, k := range canonicalControl {
			if _, ok := h[k]; ok {
				t.Fatalf("untrusted %s left in place", k)
			}
		}
	})
}
