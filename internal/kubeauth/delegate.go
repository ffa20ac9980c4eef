package kubeauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/infergate/infergate/internal/auth"
)

// Defaults of the [Options] fields.
const (
	// DefaultTimeout bounds one review call, well under a 5 s scrape.
	DefaultTimeout = 2 * time.Second
	// DefaultTokenTTL is how long an authenticated token is trusted.
	DefaultTokenTTL = time.Minute
	// DefaultInvalidTokenTTL is how long a rejected token stays rejected.
	DefaultInvalidTokenTTL = time.Minute
	// DefaultAllowTTL is how long an allowing access review is reused.
	DefaultAllowTTL = 5 * time.Minute
	// DefaultDenyTTL is how long a denying access review is reused.
	DefaultDenyTTL = 30 * time.Second
	// DefaultCacheSize bounds each of the two caches, in entries.
	DefaultCacheSize = 4096
)

// TokenReviewer creates TokenReviews (authentication.k8s.io/v1). client-go's
// typed client, clientset.AuthenticationV1().TokenReviews(), satisfies it.
// It must be safe for concurrent use.
type TokenReviewer interface {
	Create(ctx context.Context, review *authnv1.TokenReview, opts metav1.CreateOptions) (*authnv1.TokenReview, error)
}

// AccessReviewer creates SubjectAccessReviews (authorization.k8s.io/v1).
// client-go's typed client,
// clientset.AuthorizationV1().SubjectAccessReviews(), satisfies it. It must
// be safe for concurrent use.
type AccessReviewer interface {
	Create(ctx context.Context, review *authzv1.SubjectAccessReview, opts metav1.CreateOptions) (*authzv1.SubjectAccessReview, error)
}

// Options configure a [Delegate]. The zero value of every field is a
// documented default.
type Options struct {
	// Audiences, when set, are sent as the TokenReview's spec.audiences and
	// a token is accepted only if the review reports at least one of them.
	// Empty means the API server's own audiences.
	Audiences []string
	// Timeout bounds each review call to the API server. 0 means
	// DefaultTimeout (2 s); negative is invalid.
	Timeout time.Duration
	// TokenTTL is how long an authenticated token's user is cached. 0 means
	// DefaultTokenTTL (1 min); negative disables this caching.
	TokenTTL time.Duration
	// InvalidTokenTTL is how long a token the API server rejected stays
	// rejected without asking again. 0 means DefaultInvalidTokenTTL
	// (1 min); negative disables this caching.
	InvalidTokenTTL time.Duration
	// AllowTTL is how long an allowing SubjectAccessReview is reused. 0
	// means DefaultAllowTTL (5 min); negative disables this caching.
	AllowTTL time.Duration
	// DenyTTL is how long a denying SubjectAccessReview is reused. 0 means
	// DefaultDenyTTL (30 s); negative disables this caching.
	DenyTTL time.Duration
	// CacheSize bounds the token cache and the access cache, each, in
	// entries; the least recently used entry is evicted first. 0 means
	// DefaultCacheSize (4096); negative is invalid.
	CacheSize int
	// Logger receives debug records naming reviewed users (never tokens).
	// nil discards them.
	Logger *slog.Logger
	// Registerer receives the package's metrics (see the package doc). nil
	// means they are not registered.
	Registerer prometheus.Registerer
	// Now is the clock the caches expire by. nil means time.Now.
	Now func() time.Time
}

// Delegate authenticates bearer tokens with Kubernetes TokenReviews and
// authorizes requests with SubjectAccessReviews, caching both answers; it
// implements [auth.Authenticator] and [auth.Authorizer]. Errors are never
// cached, and concurrent identical reviews are collapsed into one call.
// Safe for concurrent use.
type Delegate struct {
	tokens    TokenReviewer
	access    AccessReviewer
	audiences []string
	timeout   time.Duration

	tokenTTL, invalidTokenTTL, allowTTL, denyTTL time.Duration

	now     func() time.Time
	logger  *slog.Logger
	metrics *metrics

	tokenCache    *ttlCache[digest, tokenResult]
	accessCache   *ttlCache[digest, bool]
	tokenFlights  singleflight.Group
	accessFlights singleflight.Group
}

var (
	_ auth.CachedAuthenticator = (*Delegate)(nil)
	_ auth.Authorizer          = (*Delegate)(nil)
)

// digest is a SHA-256 sum: cache keys hold digests, never tokens.
type digest = [sha256.Size]byte

// New returns a Delegate asking tokens for TokenReviews and access for
// SubjectAccessReviews. It fails if an option is invalid, a reviewer is nil
// or the metrics cannot be registered.
func New(tokens TokenReviewer, access AccessReviewer, opts Options) (*Delegate, error) {
	var errs []error
	if tokens == nil || access == nil {
		errs = append(errs, errors.New("nil TokenReviewer or AccessReviewer"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, fmt.Errorf("negative timeout %v", opts.Timeout))
	}
	if opts.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("negative cache size %d", opts.CacheSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kubeauth: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("kubeauth: %w", err)
	}
	d := &Delegate{
		tokens:          tokens,
		access:          access,
		audiences:       slices.Clone(opts.Audiences),
		timeout:         orDefault(opts.Timeout, DefaultTimeout),
		tokenTTL:        orDefault(opts.TokenTTL, DefaultTokenTTL),
		invalidTokenTTL: orDefault(opts.InvalidTokenTTL, DefaultInvalidTokenTTL),
		allowTTL:        orDefault(opts.AllowTTL, DefaultAllowTTL),
		denyTTL:         orDefault(opts.DenyTTL, DefaultDenyTTL),
		now:             opts.Now,
		logger:          opts.Logger,
		metrics:         m,
	}
	size := orDefault(opts.CacheSize, DefaultCacheSize)
	d.tokenCache = newTTLCache[digest, tokenResult](size)
	d.accessCache = newTTLCache[digest, bool](size)
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// NewForClientset returns a Delegate reviewing through cs, whose credentials
// must allow creating tokenreviews (authentication.k8s.io) and
// subjectaccessreviews (authorization.k8s.io) at cluster scope.
func NewForClientset(cs kubernetes.Interface, opts Options) (*Delegate, error) {
	return New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), opts)
}

// NewForConfig returns a Delegate reviewing through a client built from cfg;
// see [NewForClientset] for the permissions it needs. The client's own rate
// limits (cfg.QPS, cfg.Burst) apply to reviews that miss the caches.
func NewForConfig(cfg *rest.Config, opts Options) (*Delegate, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeauth: client for %s: %w", cfg.Host, err)
	}
	return NewForClientset(cs, opts)
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// reviewContext returns the context of one review call: detached from the
// cancellation of ctx, because other callers may share the call's result,
// and bounded by the configured timeout.
func (d *Delegate) reviewContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
}

// cacheUntil caches val under key in c for ttl from now, unless ttl is
// negative (caching disabled).
func cacheUntil[V any](c *ttlCache[digest, V], key digest, val V, now time.Time, ttl time.Duration) {
	if ttl > 0 {
		c.add(key, val, now.Add(ttl))
	}
}
