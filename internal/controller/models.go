package controller

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
)

// modelKey identifies a model of the catalog: a model name within a pool;
// name "" is the pool's catch-all.
type modelKey struct{ pool, name string }

// modelSource is where a candidate model came from, for precedence.
type modelSource struct {
	rewrite *v1alpha2.InferenceModelRewrite
	rule    int
}

// before reports whether a takes precedence over b: the older object
// (creation time, then name), then the earlier rule.
func (a modelSource) before(b modelSource) bool {
	at, bt := a.rewrite.CreationTimestamp.Time, b.rewrite.CreationTimestamp.Time
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	if a.rewrite.Name != b.rewrite.Name {
		return a.rewrite.Name < b.rewrite.Name
	}
	return a.rule < b.rule
}

// models turns the InferenceModelRewrites of served pools into catalog
// models, sorted by pool and name. Every exact match of a rule is a model
// of that name; a rule without matches is the pool's catch-all (Name "").
// When several rules claim the same (pool, name), the oldest object wins,
// then its first rule. That an exact model wins over the catch-all is the
// router's business: both are in the catalog.
func models(rewrites []v1alpha2.InferenceModelRewrite, served map[string]bool) (out []config.Model, notes []string) {
	type candidate struct {
		src     modelSource
		targets []config.Target
	}
	best := make(map[modelKey]candidate)
	offer := func(k modelKey, c candidate) {
		if cur, ok := best[k]; !ok || c.src.before(cur.src) {
			best[k] = c
		}
	}
	for i := range rewrites {
		rw := &rewrites[i]
		if rw.DeletionTimestamp != nil || !refersToServedPool(rw.Spec.PoolRef, served) {
			continue
		}
		pool := string(rw.Spec.PoolRef.Name)
		for ri, rule := range rw.Spec.Rules {
			targets, note := ruleTargets(rule.Targets)
			if note != "" {
				notes = append(notes, fmt.Sprintf("InferenceModelRewrite %s rule %d: %s", rw.Name, ri, note))
			}
			if len(targets) == 0 {
				continue
			}
			c := candidate{src: modelSource{rewrite: rw, rule: ri}, targets: targets}
			if len(rule.Matches) == 0 {
				offer(modelKey{pool: pool}, c)
				continue
			}
			for _, m := range rule.Matches {
				if m.Model.Value == "" || (m.Model.Type != nil && *m.Model.Type != v1alpha2.MatchExact) {
					notes = append(notes, fmt.Sprintf("InferenceModelRewrite %s rule %d: ignoring match %q", rw.Name, ri, m.Model.Value))
					continue
				}
				offer(modelKey{pool: pool, name: m.Model.Value}, c)
			}
		}
	}
	for k, c := range best {
		out = append(out, config.Model{
			Name:    k.name,
			Pool:    k.pool,
			Targets: slices.Clone(c.targets),
		})
	}
	slices.SortFunc(out, func(a, b config.Model) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Name, b.Name))
	})
	return out, notes
}

// ruleTargets returns a rule's targets with their weights: the given ones
// when every target has a weight, else 1 each (an even split; a rule that
// sets only some weights is invalid and gets a note). Targets without a
// model name are dropped; a model named twice gets the sum of its weights.
func ruleTargets(in []v1alpha2.TargetModel) (out []config.Target, note string) {
	weighted := 0
	for _, t := range in {
		if t.Weight != nil {
			weighted++
		}
	}
	if weighted != 0 && weighted != len(in) {
		note = "weights set on some targets only; splitting evenly"
	}
	for _, t := range in {
		if t.ModelRewrite == "" {
			continue
		}
		w := 1
		if weighted == len(in) {
			w = int(*t.Weight)
		}
		if j := slices.IndexFunc(out, func(o config.Target) bool { return o.Model == t.ModelRewrite }); j >= 0 {
			out[j].Weight += w
			continue
		}
		out = append(out, config.Target{Model: t.ModelRewrite, Weight: w})
	}
	return out, note
}
