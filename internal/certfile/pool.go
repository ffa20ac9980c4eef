package certfile

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadPool reads a PEM bundle of CA certificates from path. It fails when
// the file cannot be read or holds no certificate.
func LoadPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate found", path)
	}
	return pool, nil
}
