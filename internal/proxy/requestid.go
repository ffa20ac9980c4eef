package proxy

import (
	"crypto/rand"
	"encoding/hex"
)

// maxRequestIDLen bounds a propagated x-request-id.
const maxRequestIDLen = 128

// requestID returns the client's request ID when it is sane (printable ASCII,
// bounded length), otherwise a fresh random one.
func requestID(in string) string {
	if in != "" && len(in) <= maxRequestIDLen && printable(in) {
		return in
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
