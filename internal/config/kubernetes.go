package config

import "time"

// Leader-election defaults (those of Kubernetes' own controllers).
const (
	defaultLeaseDuration = 15 * time.Second
	defaultRenewDeadline = 10 * time.Second
	defaultRetryPeriod   = 2 * time.Second
)

// Kubernetes configures Kubernetes mode: pools, models and objectives come
// from InferencePool, InferenceModelRewrite and InferenceObjective objects
// in one namespace instead of this file, and follow them (and the pools'
// pods) as they change.
type Kubernetes struct {
	// Enabled turns Kubernetes mode on. The file's pools, models and
	// objectives must then be empty.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Kubeconfig is the path of a kubeconfig file. Empty means $KUBECONFIG,
	// then the in-cluster service account.
	Kubeconfig string `yaml:"kubeconfig" json:"kubeconfig"`
	// Namespace holds the pools, their pods, objectives and rewrites.
	// Empty means $POD_NAMESPACE, then the service account's namespace,
	// then "default" (resolved when the gateway starts).
	Namespace string `yaml:"namespace" json:"namespace"`
	// Pools names the InferencePools to serve.
	Pools []string `yaml:"pools" json:"pools"`
	// PoolSelector serves every InferencePool whose labels match, including
	// pools created later. Pools and PoolSelector may be combined; at least
	// one is required.
	PoolSelector *LabelSelector `yaml:"poolSelector" json:"poolSelector"`
	// LeaderElection gates InferencePool status writes on a Lease, so that
	// one replica writes them. Routing never depends on it: every replica
	// watches, scrapes and schedules on its own.
	LeaderElection LeaderElection `yaml:"leaderElection" json:"leaderElection"`
}

// LabelSelector selects objects by labels, like a Kubernetes Service's
// selector.
type LabelSelector struct {
	// MatchLabels must all be present with these values; at least one.
	MatchLabels map[string]string `yaml:"matchLabels" json:"matchLabels"`
}

// LeaderElection tunes the Lease that gates status writes.
type LeaderElection struct {
	// Enabled turns leader election on; nil means true. Without it every
	// replica writes status. Read it with [LeaderElection.On].
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// LeaseName names the Lease; empty means one derived from the served
	// pools.
	LeaseName string `yaml:"leaseName" json:"leaseName"`
	// LeaseDuration, RenewDeadline and RetryPeriod are the Lease timings;
	// defaults 15s, 10s and 2s; LeaseDuration > RenewDeadline > RetryPeriod.
	LeaseDuration Duration `yaml:"leaseDuration" json:"leaseDuration"`
	RenewDeadline Duration `yaml:"renewDeadline" json:"renewDeadline"`
	RetryPeriod   Duration `yaml:"retryPeriod" json:"retryPeriod"`
}

// On returns Enabled, or its default (true) when unset.
func (l LeaderElection) On() bool { return boolOr(l.Enabled, true) }

// applyDefaults fills the lease timings.
func (k *Kubernetes) applyDefaults() {
	if k.LeaderElection.Enabled == nil {
		k.LeaderElection.Enabled = new(true)
	}
	durationOr(&k.LeaderElection.LeaseDuration, defaultLeaseDuration)
	durationOr(&k.LeaderElection.RenewDeadline, defaultRenewDeadline)
	durationOr(&k.LeaderElection.RetryPeriod, defaultRetryPeriod)
}

// validate checks Kubernetes mode's settings and that the file does not
// also define routing objects; c is the whole config.
func (k Kubernetes) validate(c *Config) []error {
	if !k.Enabled {
		return nil
	}
	var errs []error
	const from = "must be empty in Kubernetes mode: they come from InferencePool, InferenceModelRewrite and InferenceObjective objects"
	if len(c.Pools) > 0 {
		errs = append(errs, fieldErrorf("pools", "%s", from))
	}
	if len(c.Models) > 0 {
		errs = append(errs, fieldErrorf("models", "%s", from))
	}
	if len(c.Objectives) > 0 {
		errs = append(errs, fieldErrorf("objectives", "%s", from))
	}
	if len(k.Pools) == 0 && k.PoolSelector == nil {
		errs = append(errs, fieldErrorf("kubernetes.pools", "name at least one InferencePool, or set kubernetes.poolSelector"))
	}
	seen := make(map[string]int, len(k.Pools))
	for i, name := range k.Pools {
		path := indexed("kubernetes.pools", i)
		if p := nameProblem(name); p != "" {
			errs = append(errs, fieldErrorf(path, "%s", p))
		} else if first, dup := seen[name]; dup {
			errs = append(errs, fieldErrorf(path, "%q is already kubernetes.pools[%d]", name, first))
		} else {
			seen[name] = i
		}
	}
	if k.PoolSelector != nil && len(k.PoolSelector.MatchLabels) == 0 {
		errs = append(errs, fieldErrorf("kubernetes.poolSelector.matchLabels", "needs at least one label"))
	}
	le := k.LeaderElection
	errs = append(errs, positiveDuration("kubernetes.leaderElection.leaseDuration", le.LeaseDuration)...)
	errs = append(errs, positiveDuration("kubernetes.leaderElection.renewDeadline", le.RenewDeadline)...)
	errs = append(errs, positiveDuration("kubernetes.leaderElection.retryPeriod", le.RetryPeriod)...)
	if le.RenewDeadline.Duration >= le.LeaseDuration.Duration {
		errs = append(errs, fieldErrorf("kubernetes.leaderElection.renewDeadline", "%s must be less than leaseDuration (%s)", le.RenewDeadline, le.LeaseDuration))
	}
	if le.RetryPeriod.Duration >= le.RenewDeadline.Duration {
		errs = append(errs, fieldErrorf("kubernetes.leaderElection.retryPeriod", "%s must be less than renewDeadline (%s)", le.RetryPeriod, le.RenewDeadline))
	}
	return errs
}
