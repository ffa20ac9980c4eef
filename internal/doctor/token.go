package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNeedsKubernetes means a check needs the Kubernetes API, which this
// build of the doctor does not talk to yet.
var ErrNeedsKubernetes = errors.New("not available: needs Kubernetes mode")

// maxTokenFile bounds the token file the doctor reads.
const maxTokenFile = 1 << 20

// TokenSource supplies the bearer token to scrape with.
type TokenSource interface {
	// Token returns the token. Errors say what to check.
	Token(ctx context.Context) (string, error)
	// String names the source for messages ("file /path").
	String() string
}

// FileToken reads the token from a file, as Prometheus'
// credentials_file does: the whole file, surrounding whitespace trimmed.
// A gateway token file (lines of "token[,user]", # comments) also works:
// its first token is used.
type FileToken string

// String implements [TokenSource].
func (f FileToken) String() string { return "file " + string(f) }

// Token implements [TokenSource].
func (f FileToken) Token(context.Context) (string, error) {
	st, err := os.Stat(string(f))
	if err != nil {
		return "", fmt.Errorf("read token %s: %w", f, err)
	}
	if st.Size() > maxTokenFile {
		return "", fmt.Errorf("read token %s: larger than %d bytes, not a token file", f, maxTokenFile)
	}
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", fmt.Errorf("read token %s: %w", f, err)
	}
	return tokenFromFile(string(b)), nil
}

// tokenFromFile returns the token in a credentials file or the first token
// of a gateway token file; "" when there is none.
func tokenFromFile(text string) string {
	text = strings.TrimPrefix(text, "\uFEFF")
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		token, _, _ := strings.Cut(line, ",")
		return strings.TrimSpace(token)
	}
	return ""
}

// SecretToken names a Kubernetes secret holding the token (the
// ServiceAccount token secret of Google's guide,
// inference-gateway-sa-metrics-reader-secret). Reading it needs the
// Kubernetes API, so Token always fails with [ErrNeedsKubernetes] for now.
type SecretToken struct {
	// Namespace and Name locate the secret; an empty Namespace means the
	// current one.
	Namespace, Name string
}

// String implements [TokenSource].
func (s SecretToken) String() string {
	if s.Namespace == "" {
		return "secret " + s.Name
	}
	return "secret " + s.Namespace + "/" + s.Name
}

// Token implements [TokenSource].
func (s SecretToken) Token(context.Context) (string, error) {
	return "", fmt.Errorf("read %s: %w", s, ErrNeedsKubernetes)
}
