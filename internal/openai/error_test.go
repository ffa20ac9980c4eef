package openai

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestErrorAsAndMessage(t *testing.T) {
	t.Parallel()
	var err error = ErrModelNotFound("m")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusNotFound || e.Code != CodeModelNotFound {
		t.Fatalf("errors.As = %v, %+v", errors.As(err, &e), e)
	}
	if got, want := err.Error(), "openai error 404 invalid_request_error/model_not_found: The model `m` does not exist or you do not have access to it."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestErrModelNotFoundTruncates(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300) // 600 bytes; the cut must not split a rune
	e := ErrModelNotFound(long)
	if !strings.Contains(e.Message, strings.Repeat("é", 128)+"…`") || strings.Contains(e.Message, strings.Repeat("é", 129)) {
		t.Errorf("Message not cut at 256 bytes on a rune boundary: %q", e.Message)
	}
}
