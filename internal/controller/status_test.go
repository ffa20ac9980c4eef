package controller

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/infergate/infergate/api/v1"
)

func TestStatusParents(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1000, 0))
	t1 := metav1.NewTime(time.Unix(2000, 0))
	ours := v1.ParentReference{Group: new(ParentGroup), Kind: ParentKind, Name: "gw"}
	gatewayGroup := v1.Group("gateway.networking.k8s.io")
	foreign := v1.ParentStatus{
		ParentRef:      v1.ParentReference{Group: &gatewayGroup, Kind: "Gateway", Name: "gw"},
		ControllerName: "example.com/other",
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "Other", LastTransitionTime: t0}},
	}
	// An entry with our parentRef by another controller is not ours.
	sameRefOtherController := v1.ParentStatus{ParentRef: ours, ControllerName: "example.com/other"}
	cond := func(typ string, status metav1.ConditionStatus, reason, msg string, gen int64, ltt metav1.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: ltt}
	}
	entry := func(gen int64, acceptedAt metav1.Time, ready bool, resolvedAt metav1.Time) v1.ParentStatus {
		resolved := cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", msgResolvedRefs, gen, resolvedAt)
		if !ready {
			resolved = cond("ResolvedRefs", metav1.ConditionFalse, "NoReadyEndpoints", msgNoReadyEndpoints, gen, resolvedAt)
		}
		return v1.ParentStatus{
			ParentRef:      ours,
			ControllerName: ControllerName,
			Conditions:     []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", msgAccepted, gen, acceptedAt), resolved},
		}
	}
	full := make([]v1.ParentStatus, maxParents)
	for i := range full {
		full[i] = v1.ParentStatus{ParentRef: v1.ParentReference{Name: v1.ObjectName(fmt.Sprintf("gw-%d", i))}, ControllerName: "example.com/other"}
	}

	tests := []struct {
		name         string
		parents      []v1.ParentStatus
		generation   int64
		served       bool
		hasEndpoints bool
		want         []v1.ParentStatus
		wantChanged  bool
		wantErr      error
	}{
		{
			name:         "adds our entry after other controllers' entries",
			parents:      []v1.ParentStatus{foreign, sameRefOtherController},
			generation:   1,
			served:       true,
			hasEndpoints: true,
			want:         []v1.ParentStatus{foreign, sameRefOtherController, entry(1, t1, true, t1)},
			wantChanged:  true,
		},
		{
			name:         "unchanged entry keeps its transition times",
			parents:      []v1.ParentStatus{entry(1, t0, true, t0), foreign},
			generation:   1,
			served:       true,
			hasEndpoints: true,
			want:         []v1.ParentStatus{entry(1, t0, true, t0), foreign},
		},
		{
			name:        "losing endpoints flips ResolvedRefs only",
			parents:     []v1.ParentStatus{foreign, entry(1, t0, true, t0)},
			generation:  1,
			served:      true,
			want:        []v1.ParentStatus{foreign, entry(1, t0, false, t1)},
			wantChanged: true,
		},
		{
			name:         "new generation is observed without a transition",
			parents:      []v1.ParentStatus{entry(1, t0, true, t0)},
			generation:   2,
			served:       true,
			hasEndpoints: true,
			want:         []v1.ParentStatus{entry(2, t0, true, t0)},
			wantChanged:  true,
		},
		{
			name:        "a pool no longer served loses our entry only",
			parents:     []v1.ParentStatus{foreign, entry(1, t0, true, t0), sameRefOtherController},
			generation:  1,
			want:        []v1.ParentStatus{foreign, sameRefOtherController},
			wantChanged: true,
		},
		{
			name:       "not served and no entry: nothing to do",
			parents:    []v1.ParentStatus{foreign},
			generation: 1,
		},
		{
			name:         "no room for our entry",
			parents:      full,
			generation:   1,
			served:       true,
			hasEndpoints: true,
			wantErr:      errParentsFull,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := &v1.InferencePool{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: tc.generation}}
			pool.Status.Parents = tc.parents
			before := pool.DeepCopy()
			got, changed, err := statusParents(pool, ours, tc.served, tc.hasEndpoints, t1)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v; want %v", err, tc.wantErr)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed %v; want %v", changed, tc.wantChanged)
			}
			if tc.wantChanged {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("parents (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(before, pool); diff != "" {
				t.Errorf("pool modified (-before +after):\n%s", diff)
			}
		})
	}
}

func TestSameParent(t *testing.T) {
	gw := v1.Group("gateway.networking.k8s.io")
	other := v1.Group("example.com")
	tests := []struct {
		name string
		a, b v1.ParentReference
		want bool
	}{
		{name: "defaults apply", a: v1.ParentReference{Name: "x"}, b: v1.ParentReference{Group: &gw, Kind: "Gateway", Name: "x"}, want: true},
		{name: "group differs", a: v1.ParentReference{Name: "x"}, b: v1.ParentReference{Group: &other, Name: "x"}},
		{name: "kind differs", a: v1.ParentReference{Name: "x"}, b: v1.ParentReference{Kind: "Mesh", Name: "x"}},
		{name: "name differs", a: v1.ParentReference{Name: "x"}, b: v1.ParentReference{Name: "y"}},
		{name: "namespace differs", a: v1.ParentReference{Name: "x"}, b: v1.ParentReference{Name: "x", Namespace: "ns"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameParent(tc.a, tc.b); got != tc.want {
				t.Errorf("sameParent = %v; want %v", got, tc.want)
			}
		})
	}
}
