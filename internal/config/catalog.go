package config

// Catalog is what the gateway routes over: pools of endpoints, the model
// names clients may send, and the objectives requests may run under. In
// static mode it comes from the config file ([Config.Catalog]); in Kubernetes
// mode from InferencePool, InferenceModelRewrite and InferenceObjective
// objects, republished whenever they or the pools' pods change.
//
// A Catalog from Kubernetes may hold one kind of [Model] a file cannot: one
// with an empty Name, which applies its targets to every model name of its
// pool that no other model matches (an InferenceModelRewrite rule without
// matches).
type Catalog struct {
	// Pools are the pools served, each with its current endpoints.
	Pools []Pool
	// Models are the model names with explicit routing.
	Models []Model
	// Objectives are the named priorities.
	Objectives []Objective
}

// Catalog returns the file's pools, models and objectives.
func (c *Config) Catalog() Catalog {
	return Catalog{Pools: c.Pools, Models: c.Models, Objectives: c.Objectives}
}
