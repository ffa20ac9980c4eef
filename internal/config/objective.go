package config

// Objective is a named request priority. Requests name their objective in
// the x-gateway-inference-objective header, or inherit their model's.
type Objective struct {
	// Name identifies the objective; required and unique.
	Name string `yaml:"name" json:"name"`
	// Priority orders objectives: higher is more important. A negative
	// priority marks requests as sheddable under saturation. Default 0.
	Priority int `yaml:"priority" json:"priority"`
}

// ObjectivePriority returns the priority of the objective called name and
// whether such an objective exists.
func (c *Config) ObjectivePriority(name string) (int, bool) {
	for _, o := range c.Objectives {
		if o.Name == name {
			return o.Priority, true
		}
	}
	return 0, false
}

// validateObjectives checks that objective names are present and unique.
func validateObjectives(objectives []Objective) []error {
	var errs []error
	seen := make(map[string]int, len(objectives))
	for i, o := range objectives {
		path := indexed("objectives", i)
		switch first, dup := seen[o.Name]; {
		case nameProblem(o.Name) != "":
			errs = append(errs, fieldErrorf(path+".name", "%s", nameProblem(o.Name)))
		case dup:
			errs = append(errs, fieldErrorf(path+".name", "%q is already the name of objectives[%d]", o.Name, first))
		default:
			seen[o.Name] = i
		}
	}
	return errs
}
