package controller

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
)

// state is one consistent read of everything the catalog depends on, all
// from one namespace.
type state struct {
	// pools are the served pools, not being deleted.
	pools      []v1.InferencePool
	pods       []corev1.Pod
	objectives []v1alpha2.InferenceObjective
	rewrites   []v1alpha2.InferenceModelRewrite
}

// buildCatalog turns s into a catalog: pools and models sorted by (pool)
// name, endpoints by pod name and rank, objectives by name. Empty lists are
// nil, so equal states give reflect.DeepEqual catalogs. The notes say what
// was ignored or corrected, for the log.
func buildCatalog(s state) (cat config.Catalog, notes []string) {
	pools := slices.Clone(s.pools)
	slices.SortFunc(pools, func(a, b v1.InferencePool) int { return cmp.Compare(a.Name, b.Name) })
	pods := slices.Clone(s.pods)
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })

	served := make(map[string]bool, len(pools))
	for i := range pools {
		p := &pools[i]
		served[p.Name] = true
		eps, n := poolEndpoints(p, pods)
		notes = append(notes, n...)
		cat.Pools = append(cat.Pools, config.Pool{Name: p.Name, Endpoints: eps})
	}
	cat.Objectives = objectives(s.objectives, served)
	models, n := models(s.rewrites, served)
	cat.Models = models
	notes = append(notes, n...)
	return cat, notes
}

// objectives returns the objectives that refer to a served pool, sorted by
// name; an unset priority is 0.
func objectives(objs []v1alpha2.InferenceObjective, served map[string]bool) []config.Objective {
	var out []config.Objective
	for i := range objs {
		o := &objs[i]
		if !refersToServedPool(&o.Spec.PoolRef, served) || o.DeletionTimestamp != nil {
			continue
		}
		prio := 0
		if o.Spec.Priority != nil {
			prio = *o.Spec.Priority
		}
		out = append(out, config.Objective{Name: o.Name, Priority: prio})
	}
	slices.SortFunc(out, func(a, b config.Objective) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// refersToServedPool reports whether ref names a served InferencePool. An
// empty group or kind counts as the default (the CRDs default them, but a
// YAML author may write them empty).
func refersToServedPool(ref *v1alpha2.PoolObjectReference, served map[string]bool) bool {
	if ref == nil {
		return false
	}
	if ref.Group != "" && string(ref.Group) != v1.GroupName {
		return false
	}
	if ref.Kind != "" && ref.Kind != "InferencePool" {
		return false
	}
	return served[string(ref.Name)]
}

// cloneCatalog returns a deep copy of c.
func cloneCatalog(c config.Catalog) config.Catalog {
	out := config.Catalog{
		Pools:      slices.Clone(c.Pools),
		Models:     slices.Clone(c.Models),
		Objectives: slices.Clone(c.Objectives),
	}
	for i := range out.Pools {
		out.Pools[i].Endpoints = slices.Clone(out.Pools[i].Endpoints)
	}
	for i := range out.Models {
		out.Models[i].Targets = slices.Clone(out.Models[i].Targets)
	}
	return out
}
