package controller

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
)

// Default leader-election timings, the same as Kubernetes' own components.
const (
	// DefaultLeaseDuration is the default [Options.LeaseDuration].
	DefaultLeaseDuration = 15 * time.Second
	// DefaultRenewDeadline is the default [Options.RenewDeadline].
	DefaultRenewDeadline = 10 * time.Second
	// DefaultRetryPeriod is the default [Options.RetryPeriod].
	DefaultRetryPeriod = 2 * time.Second
)

// DefaultFieldManager is the field manager of the status writes when
// [Options.FieldManager] is empty.
const DefaultFieldManager = "infergate"

// Options configure a [Controller]. Config, Namespace, Publish and at least
// one of PoolNames and PoolSelector are required; every other zero value is
// a documented default.
type Options struct {
	// Config is how to reach the API server. Required.
	Config *rest.Config
	// Namespace is the one namespace of the served InferencePools and of
	// their Pods, InferenceObjectives and InferenceModelRewrites. Required.
	Namespace string
	// PoolNames are InferencePools served by name. A named pool that does
	// not exist is absent from the catalog until it is created.
	PoolNames []string
	// PoolSelector serves, in addition to PoolNames, every InferencePool
	// whose labels contain all of these (like matchLabels). Empty selects
	// no pool.
	PoolSelector map[string]string

	// LeaderElection gates the status writes on a coordination.k8s.io Lease
	// in Namespace, so only one replica of a gateway writes pool status.
	// Discovery and publishing run on every replica regardless. When false,
	// this controller always writes status.
	LeaderElection bool
	// LeaseName names the Lease; default "infergate-<first pool name>", or
	// "infergate-pools" when only PoolSelector is set. Gateways serving
	// different pools in one namespace need different lease names.
	LeaseName string
	// Identity is this replica's name in the Lease; default the host name
	// followed by "_" and a random suffix.
	Identity string
	// LeaseDuration is how long a lease is valid after its last renewal;
	// default [DefaultLeaseDuration].
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// stops writing status; default [DefaultRenewDeadline]. It must be
	// shorter than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is the wait between attempts to acquire or renew; default
	// [DefaultRetryPeriod]. It must be shorter than RenewDeadline.
	RetryPeriod time.Duration

	// ParentName names this gateway in the status.parents entry it writes
	// on every served pool (see [ParentGroup]); default LeaseName, so that
	// the replicas sharing a lease share one entry.
	ParentName string
	// FieldManager is the field manager of status writes; default
	// [DefaultFieldManager].
	FieldManager string

	// Logger receives the controller's logs and controller-runtime's; nil
	// discards them.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with defaults applied, or an error
// listing every missing or invalid field.
func (o Options) withDefaults() (Options, labels.Selector, error) {
	var errs []error
	if o.Config == nil {
		errs = append(errs, errors.New("config is required"))
	}
	if o.Namespace == "" {
		errs = append(errs, errors.New("namespace is required"))
	}
	if len(o.PoolNames) == 0 && len(o.PoolSelector) == 0 {
		errs = append(errs, errors.New("pool names or a pool selector are required"))
	}
	var sel labels.Selector
	if len(o.PoolSelector) > 0 {
		s, err := labels.ValidatedSelectorFromSet(o.PoolSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("pool selector: %w", err))
		}
		sel = s
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = DefaultRenewDeadline
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.LeaseName == "" {
		o.LeaseName = "infergate-pools"
		if len(o.PoolNames) > 0 {
			o.LeaseName = "infergate-" + o.PoolNames[0]
		}
	}
	if o.ParentName == "" {
		o.ParentName = o.LeaseName
	}
	if o.FieldManager == "" {
		o.FieldManager = DefaultFieldManager
	}
	if o.Identity == "" {
		id, err := defaultIdentity()
		if err != nil {
			errs = append(errs, err)
		}
		o.Identity = id
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := errors.Join(errs...); err != nil {
		return o, nil, fmt.Errorf("controller options: %w", err)
	}
	return o, sel, nil
}

// defaultIdentity returns the host name and a random suffix, so two
// processes on one host (or a restarted one) never share an identity.
func defaultIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("lease identity: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return host + "_" + hex.EncodeToString(b[:]), nil
}
