package exchange

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzRequestID checks the x-request-id the gateway propagates and logs: it
// is always 1 to 128 printable ASCII bytes, the client's own value when
// that is sane, a fresh 32-digit hex ID otherwise.
func FuzzRequestID(f *testing.F) {
	for _, seed := range []string{"", "abc-123", strings.Repeat("x", 128), strings.Repeat("x", 129), "a b", "a\nb", "é", "\x7f"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := RequestID(in)
		if len(out) == 0 || len(out) > MaxRequestIDLen || !Printable(out) {
			t.Fatalf("requestID(%q) = %q: not 1..%d printable bytes", in, out, MaxRequestIDLen)
		}
		sane := in != "" && len(in) <= MaxRequestIDLen && Printable(in)
		if sane && out != in {
			t.Fatalf("requestID(%q) = %q, want the client's value", in, out)
		}
		if !sane {
			if _, err := hex.DecodeString(out); err != nil || len(out) != 32 {
				t.Fatalf("requestID(%q) = %q, want a fresh 32-digit hex ID", in, out)
			}
		}
	})
}
