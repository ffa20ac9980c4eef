package exchange

import (
	"crypto/rand"
	"encoding/hex"
)

// MaxRequestIDLen bounds a propagated [HeaderRequestID].
const MaxRequestIDLen = 128

// RequestID returns the client's request ID when it is sane (printable ASCII,
// bounded length), otherwise a fresh random one.
func RequestID(in string) string {
	if in != "" && len(in) <= MaxRequestIDLen && Printable(in) {
		return in
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Printable reports whether s is all printable ASCII without spaces, as a
// propagated request ID must be.
func Printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
