package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/infergate/infergate/api/v1"
)

// ControllerName is the controllerName of the status.parents entries
// infergate writes.
const ControllerName v1.ControllerName = "infergate.dev/gateway"

// ParentGroup and ParentKind make up, with [Options.ParentName], the
// parentRef of infergate's entry in a pool's status.parents. infergate is
// not a Gateway API Gateway: it serves the pool itself, so it names itself
// as the parent, in its own API group so that no tool mistakes the entry for
// a gateway.networking.k8s.io Gateway's.
const (
	// ParentGroup is the group of infergate's parentRef.
	ParentGroup v1.Group = "infergate.dev"
	// ParentKind is the kind of infergate's parentRef.
	ParentKind v1.Kind = "Gateway"
)

// ReasonNoReadyEndpoints goes with ResolvedRefs=False when no Pod selected
// by the pool is ready with an IP, so the pool has no endpoint.
const ReasonNoReadyEndpoints v1.InferencePoolReason = "NoReadyEndpoints"

// maxParents is the CRD's limit on status.parents.
const maxParents = 32

// errParentsFull reports a pool whose status.parents has no room for
// infergate's entry.
var errParentsFull = errors.New("status.parents already has 32 entries")

// Condition messages; they don't carry counts, so that pool status changes
// (and is written) only when a condition changes.
const (
	msgAccepted         = "Served by infergate"
	msgResolvedRefs     = "Ready Pods match the selector"
	msgNoReadyEndpoints = "No ready Pod with an IP matches the selector"
)

// statusParents returns pool's status.parents with the entry of ref and
// [ControllerName] set (served) or removed (not served), and whether that
// differs from the current list. Other entries are kept as they are: the
// status is shared with other controllers. The entry's conditions are
// Accepted=True and ResolvedRefs=True when the pool has an endpoint, False
// ([ReasonNoReadyEndpoints]) when not; a condition's lastTransitionTime is
// now only when its status changes.
func statusParents(pool *v1.InferencePool, ref v1.ParentReference, served, hasEndpoints bool, now metav1.Time) ([]v1.ParentStatus, bool, error) {
	parents := pool.DeepCopy().Status.Parents
	i := slices.IndexFunc(parents, func(p v1.ParentStatus) bool {
		return p.ControllerName == ControllerName && sameParent(p.ParentRef, ref)
	})
	if !served {
		if i < 0 {
			return nil, false, nil
		}
		return slices.Delete(parents, i, i+1), true, nil
	}
	entry := v1.ParentStatus{ParentRef: ref, ControllerName: ControllerName}
	if i >= 0 {
		entry = parents[i]
	} else if len(parents) >= maxParents {
		return nil, false, errParentsFull
	}
	changed := i < 0
	changed = meta.SetStatusCondition(&entry.Conditions, metav1.Condition{
		Type:               string(v1.InferencePoolConditionAccepted),
		Status:             metav1.ConditionTrue,
		Reason:             string(v1.InferencePoolReasonAccepted),
		Message:            msgAccepted,
		ObservedGeneration: pool.Generation,
		LastTransitionTime: now,
	}) || changed
	resolved := metav1.Condition{
		Type:               string(v1.InferencePoolConditionResolvedRefs),
		Status:             metav1.ConditionTrue,
		Reason:             string(v1.InferencePoolReasonResolvedRefs),
		Message:            msgResolvedRefs,
		ObservedGeneration: pool.Generation,
		LastTransitionTime: now,
	}
	if !hasEndpoints {
		resolved.Status, resolved.Reason, resolved.Message = metav1.ConditionFalse, string(ReasonNoReadyEndpoints), msgNoReadyEndpoints
	}
	changed = meta.SetStatusCondition(&entry.Conditions, resolved) || changed
	if i < 0 {
		parents = append(parents, entry)
	} else {
		parents[i] = entry
	}
	return parents, changed, nil
}

// sameParent reports whether a and b refer to the same parent, applying
// the CRD's defaults (group gateway.networking.k8s.io, kind Gateway).
func sameParent(a, b v1.ParentReference) bool {
	group := func(r v1.ParentReference) v1.Group {
		if r.Group == nil {
			return "gateway.networking.k8s.io"
		}
		return *r.Group
	}
	kind := func(r v1.ParentReference) v1.Kind {
		if r.Kind == "" {
			return "Gateway"
		}
		return r.Kind
	}
	return group(a) == group(b) && kind(a) == kind(b) && a.Name == b.Name && a.Namespace == b.Namespace
}

// statusWriter writes infergate's entry into pools' status.
type statusWriter struct {
	client       client.Client // writes
	apiReader    client.Reader // uncached reads after a conflict
	ref          v1.ParentReference
	fieldManager string
	now          func() metav1.Time
}

// write brings the status of pool (as cached) up to date: served or not,
// with or without endpoints. It patches the status subresource with an
// optimistic lock and, on a conflict, re-reads the pool from the API server
// and tries again. A pool that is gone needs nothing.
func (w *statusWriter) write(ctx context.Context, pool *v1.InferencePool, served, hasEndpoints bool) error {
	cur := pool
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		parents, changed, err := statusParents(cur, w.ref, served, hasEndpoints, w.now())
		if err != nil || !changed {
			return err
		}
		patched := cur.DeepCopy()
		patched.Status.Parents = parents
		patch := client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})
		err = w.client.Status().Patch(ctx, patched, patch, client.FieldOwner(w.fieldManager))
		if apierrors.IsConflict(err) {
			fresh := &v1.InferencePool{}
			if gerr := w.apiReader.Get(ctx, client.ObjectKeyFromObject(cur), fresh); gerr != nil {
				return gerr
			}
			cur = fresh
		}
		return err
	})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("write status of InferencePool %s/%s: %w", pool.Namespace, pool.Name, err)
}
