package monitoring

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Limits GMP's CRDs enforce.
const (
	maxEndpoints        = 10
	maxMetricRelabeling = 250
	maxFromPod          = 100
	maxProxyURLLength   = 2000
)

// Validate checks every monitoring object in objs with the rules Managed
// Prometheus (PodMonitoring, ClusterPodMonitoring) or prometheus-operator
// (ServiceMonitor) applies when the object is created or turned into a
// scrape configuration, plus the mistakes that pass those checks but scrape
// nothing (an empty selector, a numeric port, an authorization block without
// credentials). Objects of other kinds are ignored. It returns every
// problem found, in input order; none means the objects are valid.
func Validate(objs []Object) []Problem {
	var problems []Problem
	seen := map[string]string{}
	for i := range objs {
		o := &objs[i]
		if !o.Monitoring() {
			continue
		}
		v := &validator{obj: o.String() + " (" + o.Source + ")"}
		for _, p := range o.decodeProblems {
			v.add(p.Field, "%s", p.Message)
		}
		if first, dup := seen[o.String()]; dup {
			v.add("metadata.name", "another %s has the same name (%s); applying both keeps only the last", o.Kind, first)
		} else {
			seen[o.String()] = o.Source
		}
		v.metadata(o)
		switch {
		case o.Pod != nil:
			v.podMonitoring(o)
		case o.Service != nil:
			v.serviceMonitor(o)
		}
		problems = append(problems, v.problems...)
	}
	return problems
}

// validator collects the problems of one object.
type validator struct {
	obj      string
	problems []Problem
}

// add records a problem with field and a formatted message.
func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Object: v.obj, Field: field, Message: fmt.Sprintf(format, args...)})
}

// metadata checks the apiVersion, name and namespace.
func (v *validator) metadata(o *Object) {
	want := GMPAPIVersion
	if o.Kind == KindServiceMonitor {
		want = OperatorAPIVersion
	}
	if o.APIVersion != want {
		v.add("apiVersion", "is %q; %s is served as %s, so the API server would not know this object", o.APIVersion, o.Kind, want)
	}
	switch name := o.Metadata.Name; {
	case name == "":
		v.add("metadata.name", "is required")
	case !validDNSSubdomain(name):
		v.add("metadata.name", "%q is not a valid object name (lowercase letters, digits, '-' and '.', at most 253 characters)", name)
	}
	if ns := o.Metadata.Namespace; ns != "" && !validDNSLabel(ns) {
		v.add("metadata.namespace", "%q is not a valid namespace name", ns)
	}
}

// podMonitoring checks a PodMonitoring or ClusterPodMonitoring spec.
func (v *validator) podMonitoring(o *Object) {
	spec := o.Pod
	v.selector("spec.selector", spec.Selector, "pod")
	switch n := len(spec.Endpoints); {
	case n == 0:
		v.add("spec.endpoints", "at least one endpoint is required; without one nothing is scraped")
	case n > maxEndpoints:
		v.add("spec.endpoints", "has %d endpoints; Managed Prometheus allows at most %d per object, split them over several objects", n, maxEndpoints)
	}
	ports := map[string]int{}
	for i, ep := range spec.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		v.endpoint(o, field, ep)
		if ep.Port.IsZero() {
			continue
		}
		if j, dup := ports[ep.Port.String()]; dup {
			v.add(field+".port", "port %s is also scraped by spec.endpoints[%d]; GMP names each scrape job %s/%s, so the two jobs collide and the object is rejected (use a second object)",
				ep.Port, j, o, ep.Port)
		} else {
			ports[ep.Port.String()] = i
		}
	}
	v.targetLabels(o.Kind, spec.TargetLabels)
}

// endpoint checks one GMP scrape endpoint.
func (v *validator) endpoint(o *Object, field string, ep ScrapeEndpoint) {
	switch {
	case ep.Port.IsZero():
		v.add(field+".port", "is required: the name of the container port to scrape (the gateway's is %q)", "metrics")
	case ep.Port.Name == "":
		v.add(field+".port", "is the number %d; name the port instead (the gateway's container port is named %q): with a number GMP scrapes <pod IP>:%d on every selected pod whether or not a container declares it, and drops the container label",
			ep.Port.Number, "metrics", ep.Port.Number)
	case !validPortName(ep.Port.Name):
		v.add(field+".port", "%q cannot name a container port (at most 15 lowercase letters, digits and single '-', with a letter), so no target would ever match", ep.Port.Name)
	}
	switch ep.Scheme {
	case "", "http", "https":
	default:
		v.add(field+".scheme", "is %q; must be http or https", ep.Scheme)
	}
	if ep.Path != "" && !strings.HasPrefix(ep.Path, "/") {
		v.add(field+".path", "%q must start with '/'", ep.Path)
	}
	interval, ok := v.duration(field+".interval", ep.Interval, true)
	if timeout, tok := v.duration(field+".timeout", ep.Timeout, false); ok && tok && ep.Timeout != "" && timeout > interval {
		v.add(field+".timeout", "%s is longer than the interval %s; Managed Prometheus requires timeout <= interval (scrapes would overlap)", ep.Timeout, ep.Interval)
	}
	if n := len(ep.MetricRelabeling); n > maxMetricRelabeling {
		v.add(field+".metricRelabeling", "has %d rules; at most %d are allowed", n, maxMetricRelabeling)
	}
	for i, r := range ep.MetricRelabeling {
		v.relabeling(fmt.Sprintf("%s.metricRelabeling[%d]", field, i), r, true)
	}
	v.httpClient(o, field, ep.HTTPClientConfig, ep.Scheme)
}

// duration checks a Prometheus duration; required says whether it may be
// empty. It returns the value and whether it is usable.
func (v *validator) duration(field, s string, required bool) (time.Duration, bool) {
	if s == "" {
		if required {
			v.add(field, "is required (a Prometheus duration such as 5s)")
		}
		return 0, false
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		v.add(field, "%q is not a Prometheus duration (use e.g. 5s, 1m, 1m30s)", s)
		return 0, false
	}
	if d <= 0 {
		v.add(field, "must be greater than zero")
		return 0, false
	}
	return time.Duration(d), true
}

// selector checks a label selector over objects of the given kind ("pod" or
// "service").
func (v *validator) selector(field string, s LabelSelector, what string) {
	if len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		v.add(field, "is empty, which selects every %s in scope; select the gateway with matchLabels {app: inference-gateway-ext-proc}", what)
	}
	for _, k := range sortedKeys(s.MatchLabels) {
		if !validLabelKey(k) {
			v.add(field+".matchLabels", "key %q is not a valid label key", k)
		}
		if val := s.MatchLabels[k]; !validLabelValue(val) {
			v.add(field+".matchLabels."+k, "value %q is not a valid label value, so it matches no %s", val, what)
		}
	}
	for i, e := range s.MatchExpressions {
		ef := fmt.Sprintf("%s.matchExpressions[%d]", field, i)
		if !validLabelKey(e.Key) {
			v.add(ef+".key", "%q is not a valid label key", e.Key)
		}
		switch e.Operator {
		case OpIn, OpNotIn:
			if len(e.Values) == 0 {
				v.add(ef+".values", "operator %s needs at least one value", e.Operator)
			}
		case OpExists, OpDoesNotExist:
			if len(e.Values) != 0 {
				v.add(ef+".values", "operator %s takes no values", e.Operator)
			}
		default:
			v.add(ef+".operator", "%q is not one of In, NotIn, Exists, DoesNotExist", e.Operator)
		}
	}
}

// relabelActions are the actions GMP's CRD accepts, lower-cased.
var relabelActions = []string{"replace", "lowercase", "uppercase", "keep", "drop", "keepequal", "dropequal", "hashmod", "labeldrop", "labelkeep"}

// relabeling checks one relabeling rule; protect applies GMP's rule that the
// target labels it sets must stay as set.
func (v *validator) relabeling(field string, r RelabelingRule, protect bool) {
	action := strings.ToLower(r.Action)
	if action == "" {
		action = "replace"
	}
	for _, l := range r.SourceLabels {
		if !validPromLabel(l) {
			v.add(field+".sourceLabels", "%q is not a Prometheus label name", l)
		}
	}
	re, err := compileAnchored(r.Regex)
	if err != nil {
		v.add(field+".regex", "%q does not compile: %v", r.Regex, err)
	}
	switch action {
	case "labelmap":
		if protect {
			v.add(field+".action", "labelmap is not allowed by Managed Prometheus: it cannot prove the result leaves the protected labels %v alone", protectedLabels)
		}
	case "replace", "lowercase", "uppercase", "hashmod", "keepequal", "dropequal":
		if r.TargetLabel == "" {
			v.add(field+".targetLabel", "is required for action %s", action)
		} else if protect && protectedSet[r.TargetLabel] && action != "keepequal" && action != "dropequal" {
			v.add(field+".targetLabel", "%q is a protected label (Managed Prometheus sets %v on every target and refuses rules that write them)", r.TargetLabel, protectedLabels)
		}
		if action == "hashmod" && r.Modulus == 0 {
			v.add(field+".modulus", "must be greater than zero for hashmod")
		}
	case "labeldrop":
		if protect && re != nil {
			for _, l := range protectedLabels {
				if re.MatchString(l) {
					v.add(field+".regex", "%q would drop the protected label %q, which Managed Prometheus refuses", r.Regex, l)
					break
				}
			}
		}
	case "labelkeep":
		if protect && re != nil {
			for _, l := range protectedLabels {
				if !re.MatchString(l) {
					v.add(field+".regex", "%q does not keep the protected label %q, so it would drop it, which Managed Prometheus refuses", r.Regex, l)
					break
				}
			}
		}
	case "keep", "drop":
	default:
		v.add(field+".action", "%q is not a relabeling action (one of %s)", r.Action, strings.Join(relabelActions, ", "))
	}
}

// compileAnchored compiles a relabeling regex the way Prometheus does
// (anchored at both ends); empty means "(.*)".
func compileAnchored(re string) (*regexp.Regexp, error) {
	if re == "" {
		re = "(.*)"
	}
	return regexp.Compile("^(?s:" + re + ")$")
}

// httpClient checks the authorization, TLS, OAuth2 and proxy settings.
func (v *validator) httpClient(o *Object, field string, c HTTPClientConfig, scheme string) {
	auths := 0
	if a := c.Authorization; a != nil {
		auths++
		if strings.EqualFold(a.Type, "basic") {
			v.add(field+".authorization.type", "Basic is refused here; use basicAuth with a password secret")
		}
		if a.Credentials == nil {
			v.add(field+".authorization.credentials", "is missing, so no token is sent and the gateway answers 401 to every scrape")
		} else {
			v.secret(o, field+".authorization.credentials", a.Credentials)
		}
	}
	if b := c.BasicAuth; b != nil {
		auths++
		if b.Password != nil {
			v.secret(o, field+".basicAuth.password", b.Password)
		}
	}
	if a := c.OAuth2; a != nil {
		auths++
		if a.TokenURL == "" {
			v.add(field+".oauth2.tokenURL", "is required")
		} else if u, err := url.Parse(a.TokenURL); err != nil || u.Scheme == "" || u.Host == "" {
			v.add(field+".oauth2.tokenURL", "%q is not an absolute URL", a.TokenURL)
		}
		if a.ClientSecret != nil {
			v.secret(o, field+".oauth2.clientSecret", a.ClientSecret)
		}
		if a.TLS != nil {
			v.tls(o, field+".oauth2.tlsConfig", a.TLS)
		}
		v.proxyURL(field+".oauth2.proxyUrl", a.ProxyURL)
	}
	if auths > 1 {
		v.add(field, "sets more than one of authorization, basicAuth and oauth2; Prometheus accepts only one")
	}
	if c.TLS != nil {
		v.tls(o, field+".tls", c.TLS)
		if scheme != "https" {
			v.add(field+".tls", "is set but the scheme is not https, so it is never used")
		}
	}
	v.proxyURL(field+".proxyUrl", c.ProxyURL)
}

// tls checks a TLS block.
func (v *validator) tls(o *Object, field string, t *TLS) {
	for _, ver := range []struct{ name, value string }{{"minVersion", t.MinVersion}, {"maxVersion", t.MaxVersion}} {
		switch ver.value {
		case "", "TLS10", "TLS11", "TLS12", "TLS13":
		default:
			v.add(field+"."+ver.name, "%q is not one of TLS10, TLS11, TLS12, TLS13", ver.value)
		}
	}
	if (t.Cert == nil) != (t.Key == nil) {
		v.add(field, "cert and key must be set together for client authentication")
	}
	for _, s := range []struct {
		name string
		sel  *SecretSelector
	}{{"ca", t.CA}, {"cert", t.Cert}, {"key", t.Key}} {
		if s.sel != nil {
			v.secret(o, field+"."+s.name, s.sel)
		}
	}
}

// proxyURL checks a proxy URL (empty is fine).
func (v *validator) proxyURL(field, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	switch {
	case len(s) > maxProxyURLLength:
		v.add(field, "is longer than %d characters", maxProxyURLLength)
	case err != nil || u.Scheme == "" || u.Host == "":
		v.add(field, "%q is not an absolute URL", s)
	case u.User != nil:
		v.add(field, "must not carry credentials (user info) in the URL")
	}
}

// secret checks a secret reference: a named Secret and key, and a namespace
// only where the object's scope allows one.
func (v *validator) secret(o *Object, field string, s *SecretSelector) {
	if s.Secret == nil {
		v.add(field+".secret", "is missing; the credentials must name a Secret and key")
		return
	}
	ref := s.Secret
	switch {
	case ref.Name == "":
		v.add(field+".secret.name", "is required")
	case !validDNSSubdomain(ref.Name):
		v.add(field+".secret.name", "%q is not a valid Secret name", ref.Name)
	}
	switch {
	case ref.Key == "":
		v.add(field+".secret.key", "is required (the gateway's token Secret stores it under %q)", "token")
	case !validSecretKey(ref.Key):
		v.add(field+".secret.key", "%q is not a valid Secret key (letters, digits, '-', '_' and '.')", ref.Key)
	}
	if ref.Namespace == "" {
		return
	}
	if o.Kind == KindPodMonitoring {
		v.add(field+".secret.namespace", "is not allowed in a PodMonitoring: its secrets always come from its own namespace (use a ClusterPodMonitoring to read one from elsewhere)")
	} else if !validDNSLabel(ref.Namespace) {
		v.add(field+".secret.namespace", "%q is not a valid namespace name", ref.Namespace)
	}
}

// targetLabels checks spec.targetLabels.
func (v *validator) targetLabels(kind string, t TargetLabels) {
	allowed := []string{"container", "node", "pod", "top_level_controller_name", "top_level_controller_type"}
	if kind == KindClusterPodMonitoring {
		allowed = append(allowed, "namespace")
	}
	if t.Metadata != nil {
		for i, l := range *t.Metadata {
			if !slices.Contains(allowed, l) {
				v.add(fmt.Sprintf("spec.targetLabels.metadata[%d]", i), "%q is not allowed for a %s (one of %s)", l, kind, strings.Join(allowed, ", "))
			}
		}
	}
	if n := len(t.FromPod); n > maxFromPod {
		v.add("spec.targetLabels.fromPod", "has %d mappings; at most %d are allowed", n, maxFromPod)
	}
	for i, m := range t.FromPod {
		field := fmt.Sprintf("spec.targetLabels.fromPod[%d]", i)
		if !validLabelKey(m.From) {
			v.add(field+".from", "%q is not a valid pod label key", m.From)
		}
		to := m.To
		if to == "" {
			to = sanitizeLabelName(m.From)
		}
		switch {
		case !validPromLabel(to):
			v.add(field+".to", "%q is not a Prometheus label name", to)
		case protectedSet[to]:
			v.add(field+".to", "%q is a protected label (Managed Prometheus sets %v itself)", to, protectedLabels)
		}
	}
}

// serviceMonitor checks a prometheus-operator ServiceMonitor.
func (v *validator) serviceMonitor(o *Object) {
	spec := o.Service
	v.selector("spec.selector", spec.Selector, "service")
	if len(spec.Endpoints) == 0 {
		v.add("spec.endpoints", "at least one endpoint is required; without one nothing is scraped")
	}
	for i, ep := range spec.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		if ep.Port == "" && ep.TargetPort == nil {
			v.add(field+".port", "is required: the name of the Service port to scrape")
		}
		switch ep.Scheme {
		case "", "http", "https":
		default:
			v.add(field+".scheme", "is %q; must be http or https", ep.Scheme)
		}
		if ep.Path != "" && !strings.HasPrefix(ep.Path, "/") {
			v.add(field+".path", "%q must start with '/'", ep.Path)
		}
		interval, iok := v.duration(field+".interval", ep.Interval, false)
		timeout, tok := v.duration(field+".scrapeTimeout", ep.ScrapeTimeout, false)
		if iok && tok && timeout > interval {
			v.add(field+".scrapeTimeout", "%s is longer than the interval %s; Prometheus refuses scrape_timeout > scrape_interval", ep.ScrapeTimeout, ep.Interval)
		}
		if a := ep.Authorization; a != nil {
			if strings.EqualFold(a.Type, "basic") {
				v.add(field+".authorization.type", "Basic is refused here; use basicAuth")
			}
			if a.Credentials == nil {
				v.add(field+".authorization.credentials", "is missing, so no token is sent and the gateway answers 401 to every scrape")
			} else {
				v.operatorSecret(field+".authorization.credentials", a.Credentials)
			}
			if ep.BearerTokenSecret != nil {
				v.add(field+".bearerTokenSecret", "is set together with authorization; use authorization only")
			}
		}
		if ep.BearerTokenSecret != nil {
			v.operatorSecret(field+".bearerTokenSecret", ep.BearerTokenSecret)
		}
		if ep.BearerTokenFile != "" {
			v.add(field+".bearerTokenFile", "is deprecated and refused by current prometheus-operator releases; use authorization.credentials with a Secret")
		}
		for j, r := range ep.Relabelings {
			v.relabeling(fmt.Sprintf("%s.relabelings[%d]", field, j), r, false)
		}
		for j, r := range ep.MetricRelabelings {
			v.relabeling(fmt.Sprintf("%s.metricRelabelings[%d]", field, j), r, false)
		}
	}
}

// operatorSecret checks a core/v1 SecretKeySelector.
func (v *validator) operatorSecret(field string, s *OperatorSecretKey) {
	switch {
	case s.Name == "":
		v.add(field+".name", "is required")
	case !validDNSSubdomain(s.Name):
		v.add(field+".name", "%q is not a valid Secret name", s.Name)
	}
	switch {
	case s.Key == "":
		v.add(field+".key", "is required")
	case !validSecretKey(s.Key):
		v.add(field+".key", "%q is not a valid Secret key", s.Key)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
