package kubeauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/infergate/infergate/internal/auth"
)

// tokenResult is the cached outcome of a TokenReview: a user, or an error
// wrapping auth.ErrUnauthenticated.
type tokenResult struct {
	user auth.User
	err  error
}

// Authenticate implements [auth.Authenticator] with a TokenReview.
//
// An authenticated token yields the reviewed user (name, groups, UID and
// extra; treat them as read-only) and is trusted for TokenTTL. A token the
// API server does not authenticate, or one without any of the configured
// Audiences, yields an error wrapping [auth.ErrUnauthenticated] and is
// rejected without asking again for InvalidTokenTTL. When the API server
// cannot be reached, times out, answers 5xx or 429, the error wraps
// [auth.ErrUnavailable]; any other failure, such as the gateway lacking
// permission to create tokenreviews, is a plain error naming the cause.
// Failures are not cached. Concurrent calls with the same token share one
// review, which is not cancelled when a caller's ctx is (it is bounded by
// Timeout); errors never contain the token.
func (d *Delegate) Authenticate(ctx context.Context, token string) (auth.User, error) {
	if token == "" {
		return auth.User{}, fmt.Errorf("token review: empty token: %w", auth.ErrUnauthenticated)
	}
	key := sha256.Sum256([]byte(token))
	if res, ok := d.cachedToken(key); ok {
		return res.user, res.err
	}
	v, err, _ := d.tokenFlights.Do(string(key[:]), func() (any, error) {
		// A review that finished between the lookup above and this call
		// has cached its result already.
		if res, ok := d.cachedToken(key); ok {
			return res, nil
		}
		return d.reviewToken(ctx, key, token)
	})
	if err != nil {
		return auth.User{}, err
	}
	res := v.(tokenResult)
	return res.user, res.err
}

// AuthenticateCached implements [auth.CachedAuthenticator]: it returns the
// user of a token the cache holds as authenticated, and false for any other
// token, without sending a TokenReview. The middleware uses it for clients
// that are throttled for failing too often.
func (d *Delegate) AuthenticateCached(token string) (auth.User, bool) {
	if token == "" {
		return auth.User{}, false
	}
	res, ok := d.cachedToken(sha256.Sum256([]byte(token)))
	if !ok || res.err != nil {
		return auth.User{}, false
	}
	return res.user, true
}

// cachedToken returns the cached result for the token with digest key.
func (d *Delegate) cachedToken(key digest) (tokenResult, bool) {
	res, ok := d.tokenCache.get(key, d.now())
	if ok {
		d.metrics.cacheHit(kindToken, tokenOutcome(res))
	}
	return res, ok
}

// reviewToken asks the API server about token and caches the answer under
// key. The returned error reports a failed review (never cached).
func (d *Delegate) reviewToken(ctx context.Context, key digest, token string) (tokenResult, error) {
	rctx, cancel := d.reviewContext(ctx)
	defer cancel()
	start := d.now()
	review, err := d.tokens.Create(rctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token, Audiences: d.audiences},
	}, metav1.CreateOptions{})
	d.metrics.observe(kindToken, d.now().Sub(start))
	if err == nil && review == nil {
		err = errors.New("empty response")
	}
	if err != nil {
		err = fmt.Errorf("token review: %w", classify(err, tokenReviewsResource))
		d.metrics.review(kindToken, errorOutcome(err))
		return tokenResult{}, err
	}
	res, err := d.tokenResultOf(review)
	if err != nil {
		d.metrics.review(kindToken, errorOutcome(err))
		return tokenResult{}, err
	}
	d.metrics.review(kindToken, tokenOutcome(res))
	ttl := d.tokenTTL
	if res.err != nil {
		ttl = d.invalidTokenTTL
	}
	cacheUntil(d.tokenCache, key, res, d.now(), ttl)
	if d.logger.Enabled(ctx, slog.LevelDebug) {
		if res.err == nil {
			d.logger.LogAttrs(ctx, slog.LevelDebug, "token review authenticated", slog.String("user", res.user.Name))
		} else {
			d.logger.LogAttrs(ctx, slog.LevelDebug, "token review rejected a token", slog.String("err", res.err.Error()))
		}
	}
	return res, nil
}

// tokenResultOf interprets a TokenReview's status. An error means the
// status is unusable (not an answer to cache).
func (d *Delegate) tokenResultOf(review *authnv1.TokenReview) (tokenResult, error) {
	st := review.Status
	switch {
	case !st.Authenticated && st.Error != "":
		return tokenResult{err: fmt.Errorf("token review: not authenticated (%s): %w", st.Error, auth.ErrUnauthenticated)}, nil
	case !st.Authenticated:
		return tokenResult{err: fmt.Errorf("token review: not authenticated: %w", auth.ErrUnauthenticated)}, nil
	case len(d.audiences) > 0 && !intersects(d.audiences, st.Audiences):
		return tokenResult{err: fmt.Errorf("token review: token not valid for audiences %q: %w", d.audiences, auth.ErrUnauthenticated)}, nil
	case st.User.Username == "":
		return tokenResult{}, errors.New("token review: API server authenticated a token without a user name")
	}
	u := auth.User{
		Name:   st.User.Username,
		Groups: slices.Clip(slices.Clone(st.User.Groups)),
		UID:    st.User.UID,
	}
	if len(st.User.Extra) > 0 {
		u.Extra = make(map[string][]string, len(st.User.Extra))
		for k, v := range st.User.Extra {
			u.Extra[k] = slices.Clip(slices.Clone([]string(v)))
		}
	}
	return tokenResult{user: u}, nil
}

// intersects reports whether a and b share an element.
func intersects(a, b []string) bool {
	for _, s := range a {
		if slices.Contains(b, s) {
			return true
		}
	}
	return false
}

// tokenOutcome is the metrics result label of a TokenReview answer.
func tokenOutcome(res tokenResult) string {
	if res.err != nil {
		return resultDenied
	}
	return resultAllowed
}
