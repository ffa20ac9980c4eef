package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNeedsKubernetes means a check needs the Kubernetes API and was given
// no access to it.
var ErrNeedsKubernetes = errors.New("not available: needs access to the Kubernetes API")

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
