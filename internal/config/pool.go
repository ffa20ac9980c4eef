package config

import (
	"strings"

	"github.com/infergate/infergate/internal/pool"
)

// Engines the gateway knows how to scrape, as the config file spells them:
// the names [pool.Engine] owns. [Endpoint.Engine] must be one of
// [pool.Engines]; empty means [EngineVLLM].
const (
	// EngineVLLM is [pool.EngineVLLM].
	EngineVLLM = string(pool.EngineVLLM)
	// EngineSGLang is [pool.EngineSGLang].
	EngineSGLang = string(pool.EngineSGLang)
	// EngineTRTLLM is [pool.EngineTRTLLM].
	EngineTRTLLM = string(pool.EngineTRTLLM)
)

// Pool is a named group of interchangeable model-server endpoints; requests
// for a model are scheduled over the endpoints of the model's pool.
type Pool struct {
	// Name identifies the pool; required and unique.
	Name string `yaml:"name" json:"name"`
	// Endpoints are the pool's model-server replicas.
	Endpoints []Endpoint `yaml:"endpoints" json:"endpoints"`
}

// Endpoint is one model-server replica.
type Endpoint struct {
	// Name identifies the endpoint within its pool; default: the address.
	Name string `yaml:"name" json:"name"`
	// Address is host:port of the replica's HTTP server (no scheme); the
	// port is 1..65535.
	Address string `yaml:"address" json:"address"`
	// Engine is the model-server software, which decides how its metrics
	// are read: [EngineVLLM] (default), [EngineSGLang] or [EngineTRTLLM].
	Engine string `yaml:"engine" json:"engine"`
}

// applyDefaults fills the endpoints' names and engines.
func (p *Pool) applyDefaults() {
	for i := range p.Endpoints {
		ep := &p.Endpoints[i]
		if ep.Name == "" {
			ep.Name = ep.Address
		}
		if ep.Engine == "" {
			ep.Engine = EngineVLLM
		}
	}
}

// validatePools checks that there is at least one pool, that pool names are
// present and unique, and each pool's endpoints.
func validatePools(pools []Pool) []error {
	if len(pools) == 0 {
		return []error{fieldErrorf("pools", "at least one pool is required")}
	}
	var errs []error
	seen := make(map[string]int, len(pools))
	for i, p := range pools {
		path := indexed("pools", i)
		switch first, dup := seen[p.Name]; {
		case nameProblem(p.Name) != "":
			errs = append(errs, fieldErrorf(path+".name", "%s", nameProblem(p.Name)))
		case dup:
			errs = append(errs, fieldErrorf(path+".name", "%q is already the name of pools[%d]", p.Name, first))
		default:
			seen[p.Name] = i
		}
		errs = append(errs, p.validateEndpoints(path)...)
	}
	return errs
}

// validateEndpoints checks the endpoints of the pool at path.
func (p Pool) validateEndpoints(path string) []error {
	var errs []error
	names := make(map[string]int, len(p.Endpoints))
	addrs := make(map[string]int, len(p.Endpoints))
	for i, ep := range p.Endpoints {
		epPath := indexed(path+".endpoints", i)
		first, nameDup := names[ep.Name]
		switch {
		case nameProblem(ep.Name) != "":
			errs = append(errs, fieldErrorf(epPath+".name", "%s", nameProblem(ep.Name)))
		case nameDup:
			errs = append(errs, fieldErrorf(epPath+".name", "%q is already the name of %s.endpoints[%d]", ep.Name, path, first))
		default:
			names[ep.Name] = i
		}
		addrErrs := validateEndpointAddress(epPath+".address", ep.Address)
		errs = append(errs, addrErrs...)
		// A repeated unnamed address is already reported as a repeated name.
		if first, addrDup := addrs[ep.Address]; addrDup && !nameDup && len(addrErrs) == 0 {
			errs = append(errs, fieldErrorf(epPath+".address", "%q is already the address of %s.endpoints[%d]", ep.Address, path, first))
		} else if !addrDup {
			addrs[ep.Address] = i
		}
		if !knownEngine(ep.Engine) {
			errs = append(errs, fieldErrorf(epPath+".engine", "%q is not one of %s", ep.Engine, engineList()))
		}
	}
	return errs
}

// knownEngine reports whether engine is one of [pool.Engines].
func knownEngine(engine string) bool { return pool.Engine(engine).Valid() }

// engineList names [pool.Engines] for error messages.
func engineList() string {
	names := make([]string, 0, len(pool.Engines()))
	for _, e := range pool.Engines() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}
