package kubeauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/infergate/infergate/internal/auth"
)

// The resources the gateway creates, as RBAC and error messages name them.
const (
	tokenReviewsResource         = "tokenreviews.authentication.k8s.io"
	subjectAccessReviewsResource = "subjectaccessreviews.authorization.k8s.io"
)

// classify maps the error of a call creating resource to what
// [auth.Middleware] expects:
//
//   - 429 and 5xx answers, and failures to get any answer (connection
//     refused or reset, timeouts, the client's rate limiter giving up
//     before the deadline): wrap [auth.ErrUnavailable] (503, retry later);
//   - 403: a plain error saying the gateway's own identity lacks
//     permission to create resource (500, a deployment bug);
//   - 401: a plain error saying the API server rejected the gateway's own
//     credentials (500);
//   - an unverifiable API server certificate and every other answer: a
//     plain error (500).
//
// It never wraps [auth.ErrUnauthenticated]: the token under review is not
// at fault.
func classify(err error, resource string) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch code := status.Status().Code; {
		case code == http.StatusTooManyRequests || code >= 500:
			return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
		case code == http.StatusForbidden:
			return fmt.Errorf("the gateway's Kubernetes identity lacks permission to create %s "+
				"(grant it verb create on that resource in a ClusterRole): %w", resource, err)
		case code == http.StatusUnauthorized:
			return fmt.Errorf("the API server rejected the gateway's own credentials: %w", err)
		default:
			return fmt.Errorf("creating %s: %w", resource, err)
		}
	}
	if certificateError(err) {
		return fmt.Errorf("cannot verify the API server's certificate: %w", err)
	}
	return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
}

// certificateError reports whether err is a failure to verify a TLS peer's
// certificate, a configuration problem that retrying does not fix.
func certificateError(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	_, ok := errors.AsType[x509.CertificateInvalidError](err)
	return ok
}

// errorOutcome is the metrics result label of a failed review.
func errorOutcome(err error) string {
	if errors.Is(err, auth.ErrUnavailable) {
		return resultUnavailable
	}
	return resultError
}
