package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
)

// enqueueCatalog is an event handler that asks for a catalog rebuild on
// every event, whatever the object.
type enqueueCatalog[T any] struct{}

var _ handler.TypedEventHandler[struct{}, catalogRequest] = enqueueCatalog[struct{}]{}

func handlerFor[T any]() handler.TypedEventHandler[T, catalogRequest] { return enqueueCatalog[T]{} }

// Create implements handler.TypedEventHandler.
func (enqueueCatalog[T]) Create(_ context.Context, _ event.TypedCreateEvent[T], q workqueue.TypedRateLimitingInterface[catalogRequest]) {
	q.Add(catalogRequest{})
}

// Update implements handler.TypedEventHandler.
func (enqueueCatalog[T]) Update(_ context.Context, _ event.TypedUpdateEvent[T], q workqueue.TypedRateLimitingInterface[catalogRequest]) {
	q.Add(catalogRequest{})
}

// Delete implements handler.TypedEventHandler.
func (enqueueCatalog[T]) Delete(_ context.Context, _ event.TypedDeleteEvent[T], q workqueue.TypedRateLimitingInterface[catalogRequest]) {
	q.Add(catalogRequest{})
}

// Generic implements handler.TypedEventHandler.
func (enqueueCatalog[T]) Generic(_ context.Context, _ event.TypedGenericEvent[T], q workqueue.TypedRateLimitingInterface[catalogRequest]) {
	q.Add(catalogRequest{})
}

// trimObject is the caches' transform. Pods keep only what the catalog
// needs (name, labels, the engine and active-ports annotations, deletion, IP,
// readiness), so
// the cache of a namespace full of Pods stays small; other objects lose
// their managed fields.
func trimObject(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return cache.TransformStripManagedFields()(obj)
	}
	out := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            pod.Labels,
		},
		Status: corev1.PodStatus{PodIP: pod.Status.PodIP},
	}
	for _, k := range []string{EngineAnnotation, ActivePortsAnnotation, ActivePortsAnnotationGIE} {
		if v, ok := pod.Annotations[k]; ok {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status}}
		}
	}
	return out, nil
}
