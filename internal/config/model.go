package config

// Target weight bounds, as in the upstream InferenceModelRewrite API.
const (
	minTargetWeight = 1
	maxTargetWeight = 1_000_000
)

// Model is a model name clients send in the request body's "model" field,
// and how requests for it are routed.
type Model struct {
	// Name is the served model name; required and unique.
	Name string `yaml:"name" json:"name"`
	// Pool names the pool serving this model; default: the first pool.
	Pool string `yaml:"pool" json:"pool"`
	// Objective names the default objective of this model's requests; the
	// x-gateway-inference-objective header overrides it. Empty: none.
	Objective string `yaml:"objective" json:"objective"`
	// Targets split the model's traffic by weight over the model names
	// actually sent to the model server (a base model and/or LoRA adapters).
	// Empty: the name is sent unchanged.
	Targets []Target `yaml:"targets" json:"targets"`
}

// Target is one destination model name of a [Model] and its share of the
// traffic.
type Target struct {
	// Model is the model name sent to the model server; required and unique
	// within the model's targets.
	Model string `yaml:"model" json:"model"`
	// Weight is the relative share of traffic, 1..1000000. Weights are set
	// on all of a model's targets or on none; none means 1 each (an even
	// split).
	Weight int `yaml:"weight" json:"weight"`
}

// applyDefaults sets the pool to defaultPool when unset and gives every
// target weight 1 when no target has a weight.
func (m *Model) applyDefaults(defaultPool string) {
	if m.Pool == "" {
		m.Pool = defaultPool
	}
	for _, t := range m.Targets {
		if t.Weight != 0 {
			return
		}
	}
	for i := range m.Targets {
		m.Targets[i].Weight = 1
	}
}

// validateModels checks model names, their references to pools and
// objectives, and their targets.
func validateModels(models []Model, pools []Pool, objectives []Objective) []error {
	poolNames := make(map[string]bool, len(pools))
	for _, p := range pools {
		poolNames[p.Name] = true
	}
	objectiveNames := make(map[string]bool, len(objectives))
	for _, o := range objectives {
		objectiveNames[o.Name] = true
	}
	var errs []error
	seen := make(map[string]int, len(models))
	for i, m := range models {
		path := indexed("models", i)
		switch first, dup := seen[m.Name]; {
		case nameProblem(m.Name) != "":
			errs = append(errs, fieldErrorf(path+".name", "%s", nameProblem(m.Name)))
		case dup:
			errs = append(errs, fieldErrorf(path+".name", "%q is already the name of models[%d]", m.Name, first))
		default:
			seen[m.Name] = i
		}
		// An empty pool only survives ApplyDefaults when there are no
		// pools, which validatePools already reports.
		if m.Pool != "" && !poolNames[m.Pool] {
			errs = append(errs, fieldErrorf(path+".pool", "%q is not the name of any pool", m.Pool))
		}
		if m.Objective != "" && !objectiveNames[m.Objective] {
			errs = append(errs, fieldErrorf(path+".objective", "%q is not the name of any objective", m.Objective))
		}
		errs = append(errs, validateTargets(path+".targets", m.Targets)...)
	}
	return errs
}

// validateTargets checks a model's targets: names present and unique,
// weights set on all or none, and in range.
func validateTargets(path string, targets []Target) []error {
	weighted := 0
	for _, t := range targets {
		if t.Weight != 0 {
			weighted++
		}
	}
	var errs []error
	seen := make(map[string]int, len(targets))
	for i, t := range targets {
		tPath := indexed(path, i)
		switch first, dup := seen[t.Model]; {
		case nameProblem(t.Model) != "":
			errs = append(errs, fieldErrorf(tPath+".model", "%s", nameProblem(t.Model)))
		case dup:
			errs = append(errs, fieldErrorf(tPath+".model", "%q is already the model of %s[%d]", t.Model, path, first))
		default:
			seen[t.Model] = i
		}
		switch {
		case t.Weight == 0 && weighted > 0:
			errs = append(errs, fieldErrorf(tPath+".weight", "is required because other targets set a weight (set all weights or none)"))
		case t.Weight != 0 && (t.Weight < minTargetWeight || t.Weight > maxTargetWeight):
			errs = append(errs, fieldErrorf(tPath+".weight", "must be in %d..%d, got %d", minTargetWeight, maxTargetWeight, t.Weight))
		}
	}
	return errs
}
