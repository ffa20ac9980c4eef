// Package certfile serves TLS key pairs read from PEM files and re-read when
// the files change, so a renewed certificate (a cert-manager Secret update, a
// rotated file on disk) is picked up without a restart.
//
// A [Pair] plugs into crypto/tls: [Pair.GetCertificate] for servers and
// [Pair.GetClientCertificate] for clients. It checks the files' modification
// time and size at most once per second, on the handshake path: no goroutine
// runs. When a changed pair fails to load (a half-written rotation, a key that
// does not match) the previous pair keeps being served and the failure is
// logged at WARN once per change of the files.
//
// [LoadPool] reads a CA bundle.
package certfile
