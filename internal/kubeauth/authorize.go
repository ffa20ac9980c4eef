package kubeauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"slices"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/infergate/infergate/internal/auth"
)

// Authorize implements [auth.Authorizer] with a SubjectAccessReview asking
// whether u (name, groups, UID and extra, as Authenticate reported them) may
// use verb on the non-resource URL path — what a ClusterRole rule
// `nonResourceURLs: ["/metrics"], verbs: ["get"]` grants.
//
// It allows only when the review's status.allowed is true and
// status.denied false; anything else (including an evaluationError) denies.
// Allowing answers are reused for AllowTTL, denying ones for DenyTTL. When
// the API server cannot be reached, times out, answers 5xx or 429, the error
// wraps [auth.ErrUnavailable]; any other failure, such as the gateway
// lacking permission to create subjectaccessreviews, is a plain error naming
// the cause. Failures are not cached. Concurrent identical questions share
// one review, bounded by Timeout and not cancelled with a caller's ctx.
func (d *Delegate) Authorize(ctx context.Context, u auth.User, verb, path string) (bool, error) {
	if u.Name == "" {
		return false, errors.New("subject access review: user without a name")
	}
	key := accessKey(u, verb, path)
	if allowed, ok := d.cachedAccess(key); ok {
		return allowed, nil
	}
	v, err, _ := d.accessFlights.Do(string(key[:]), func() (any, error) {
		if allowed, ok := d.cachedAccess(key); ok {
			return allowed, nil
		}
		return d.reviewAccess(ctx, key, u, verb, path)
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// cachedAccess returns the cached decision under key.
func (d *Delegate) cachedAccess(key digest) (bool, bool) {
	allowed, ok := d.accessCache.get(key, d.now())
	if ok {
		d.metrics.cacheHit(kindAccess, accessOutcome(allowed))
	}
	return allowed, ok
}

// reviewAccess asks the API server whether u may use verb on path and
// caches the decision under key. The error reports a failed review (never
// cached).
func (d *Delegate) reviewAccess(ctx context.Context, key digest, u auth.User, verb, path string) (bool, error) {
	spec := authzv1.SubjectAccessReviewSpec{
		User:                  u.Name,
		Groups:                u.Groups,
		UID:                   u.UID,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
	}
	if len(u.Extra) > 0 {
		spec.Extra = make(map[string]authzv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			spec.Extra[k] = authzv1.ExtraValue(v)
		}
	}
	rctx, cancel := d.reviewContext(ctx)
	defer cancel()
	start := d.now()
	review, err := d.access.Create(rctx, &authzv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	d.metrics.observe(kindAccess, d.now().Sub(start))
	if err == nil && review == nil {
		err = errors.New("empty response")
	}
	if err != nil {
		err = fmt.Errorf("subject access review for user %s: %w", u.Name, classify(err, subjectAccessReviewsResource))
		d.metrics.review(kindAccess, errorOutcome(err))
		return false, err
	}
	st := review.Status
	allowed := st.Allowed && !st.Denied
	d.metrics.review(kindAccess, accessOutcome(allowed))
	ttl := d.allowTTL
	if !allowed {
		ttl = d.denyTTL
	}
	cacheUntil(d.accessCache, key, allowed, d.now(), ttl)
	if d.logger.Enabled(ctx, slog.LevelDebug) {
		d.logger.LogAttrs(ctx, slog.LevelDebug, "subject access review",
			slog.String("user", u.Name), slog.String("verb", verb), slog.String("path", path),
			slog.Bool("allowed", allowed), slog.String("reason", st.Reason),
			slog.String("evaluation_error", st.EvaluationError))
	}
	return allowed, nil
}

// accessKey is the digest of everything a SubjectAccessReview for u, verb
// and path depends on. Each field is length-prefixed, and extra keys are
// sorted, so distinct questions have distinct encodings.
func accessKey(u auth.User, verb, path string) digest {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	writeInt := func(n int) { h.Write(binary.AppendUvarint(buf[:0], uint64(n))) }
	writeStrings := func(ss ...string) {
		writeInt(len(ss))
		for _, s := range ss {
			writeString(h, &buf, s)
		}
	}
	writeStrings(u.Name, u.UID, verb, path)
	writeStrings(u.Groups...)
	keys := slices.Sorted(maps.Keys(u.Extra))
	writeInt(len(keys))
	for _, k := range keys {
		writeString(h, &buf, k)
		writeStrings(u.Extra[k]...)
	}
	var d digest
	h.Sum(d[:0])
	return d
}

// writeString writes s to h, prefixed with its length.
func writeString(h hash.Hash, buf *[binary.MaxVarintLen64]byte, s string) {
	h.Write(binary.AppendUvarint(buf[:0], uint64(len(s))))
	h.Write([]byte(s))
}

// accessOutcome is the metrics result label of a SubjectAccessReview
// decision.
func accessOutcome(allowed bool) string {
	if allowed {
		return resultAllowed
	}
	return resultDenied
}
