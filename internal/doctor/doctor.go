package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults of [Options].
const (
	// DefaultURL is the gateway's metrics endpoint on this machine.
	DefaultURL = "http://127.0.0.1:9090/metrics"
	// DefaultTimeout bounds each request.
	DefaultTimeout = 5 * time.Second
	// DefaultInterval is the wait between the two scrapes.
	DefaultInterval = 2 * time.Second
)

// Options configure [Run].
type Options struct {
	// URL is the metrics endpoint; default [DefaultURL].
	URL string
	// Token supplies the bearer token; nil sends none.
	Token TokenSource
	// Client sends the requests; nil means a client with [DefaultTimeout].
	Client *http.Client
	// Interval is the wait between the two scrapes that show whether the
	// values are live; default [DefaultInterval].
	Interval time.Duration
	// Cluster gives access to the Kubernetes API and turns on the
	// in-cluster checks: [CheckCluster] first, then [CheckPods],
	// [CheckMetricsPort], [CheckMetricsRBAC], [CheckSecretRBAC] and
	// [CheckMonitoring] after the HTTP checks. nil means none, unless Token
	// is a [SecretToken]: then the zero Cluster (the default kubeconfig)
	// is used.
	Cluster *Cluster
}

// Run diagnoses the metrics endpoint and returns the report; it never
// fails itself. It stops early when a check makes the later ones
// meaningless (no answer, auth refused, not an exposition), and reports
// those as skipped. ctx bounds the whole run.
func Run(ctx context.Context, o Options) *Report {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	r := &Report{Target: o.URL}
	secret, isSecret := o.Token.(SecretToken)
	if isSecret && o.Cluster == nil {
		o.Cluster = &Cluster{}
	}
	if o.Cluster == nil {
		token, source := r.token(ctx, o.Token)
		return r.scrapeChecks(ctx, o, token, source)
	}

	c := o.Cluster.withDefaults()
	timeout := o.Client.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	k := r.connect(ctx, c, timeout)
	defer k.close()
	var (
		src *SecretToken
		sec *secretResult
	)
	if isSecret {
		if k != nil && secret.Namespace == "" {
			secret.Namespace = k.namespace
		}
		if k != nil && secret.Client == nil {
			secret.Client = k.cs.CoreV1()
		}
		src, sec = &secret, &secretResult{}
	}
	// The in-cluster checks come last, however the HTTP checks end.
	defer func() { r.inCluster(ctx, k, c, src, sec) }()
	var token, source string
	if isSecret {
		token, source = r.secretToken(ctx, secret, sec)
	} else {
		token, source = r.token(ctx, o.Token)
	}
	return r.scrapeChecks(ctx, o, token, source)
}

// scrapeChecks runs the HTTP checks with token (none when empty) from
// source.
func (r *Report) scrapeChecks(ctx context.Context, o Options, token, source string) *Report {
	first, ok := r.reach(ctx, o, token, source)
	if !ok {
		r.skipRest("needs a successful scrape")
		return r
	}
	f1, err := parseExposition(first.body)
	if err != nil {
		r.add(CheckExposition, Fail, "the answer is not Prometheus text exposition: "+oneLine(err.Error())+describeBody(first),
			"is --url the gateway's metrics endpoint (http://HOST:9090/metrics)?")
		r.skipRest("needs a Prometheus exposition")
		return r
	}
	r.add(CheckExposition, Pass, fmt.Sprintf("Prometheus text format, %d metric families", len(f1)), "")

	// Scrape again: counters that move and gauges that change show the
	// exporter is live; the latest values drive the checks.
	latest, f2, liveProblem := f1, families(nil), ""
	wait := time.NewTimer(o.Interval)
	defer wait.Stop()
	select {
	case <-ctx.Done():
		liveProblem = "interrupted before the second scrape"
	case <-wait.C:
		s2, err := get(ctx, o.Client, o.URL, token)
		switch {
		case err != nil:
			d, _ := explainTransport(o.URL, err)
			liveProblem = "second scrape failed: " + d
		case s2.status != http.StatusOK:
			liveProblem = fmt.Sprintf("second scrape answered %d", s2.status)
		default:
			if f2, err = parseExposition(s2.body); err != nil {
				liveProblem = "second scrape is not an exposition: " + oneLine(err.Error())
			} else {
				latest = f2
			}
		}
	}

	r.checkRequests(latest)
	r.checkLatency(latest)
	r.checkReadyPods(latest)
	r.checkPoolGauges(latest)
	r.checkBuildInfo(latest)
	if liveProblem != "" {
		r.add(CheckLive, Fail, liveProblem, "the endpoint answered once and then not: is the gateway restarting? check its log")
		return r
	}
	r.checkLive(f1, f2, o.Interval)
	return r
}

// token reads the token and reports it; it returns the token and the
// source's description ("" when no token will be sent).
func (r *Report) token(ctx context.Context, src TokenSource) (string, string) {
	if src == nil {
		r.add(CheckToken, Warn, "no token given; scraping without one",
			"pass --token-file FILE (or --token-secret NAME in a cluster) when the endpoint needs auth")
		return "", ""
	}
	tok, err := src.Token(ctx)
	switch {
	case err != nil:
		r.add(CheckToken, Fail, "cannot read the token: "+oneLine(err.Error()), "check the path and permissions of the token file")
		return "", ""
	case tok == "":
		r.add(CheckToken, Fail, src.String()+" holds no token", "put the bearer token in it (one line)")
		return "", ""
	}
	r.add(CheckToken, Pass, fmt.Sprintf("read from %s (%d characters)", src, len(tok)), "")
	return tok, src.String()
}

// reach scrapes once and reports reachability and auth; it returns the
// scrape and whether it answered 200.
func (r *Report) reach(ctx context.Context, o Options, token, source string) (*scrape, bool) {
	s, err := get(ctx, o.Client, o.URL, token)
	if err != nil {
		detail, fix := explainTransport(o.URL, err)
		r.add(CheckReachable, Fail, detail, fix)
		r.add(CheckAuth, Skip, "needs an answer", "")
		return nil, false
	}
	r.add(CheckReachable, Pass, fmt.Sprintf("GET %s answered %d %s in %s", o.URL, s.status, http.StatusText(s.status),
		s.duration.Round(time.Millisecond)), "")
	if s.status != http.StatusOK {
		v, detail, fix := explainStatus(s, o.URL, source)
		r.add(CheckAuth, v, detail, fix)
		return s, false
	}
	if source == "" {
		r.add(CheckAuth, Warn, "the endpoint answers without a token: anyone who can reach it can read the metrics",
			"turn on metrics.auth in the gateway's config (it is on by default)")
	} else {
		r.add(CheckAuth, Pass, "the token was accepted", "")
	}
	return s, true
}

// checkLive compares two scrapes interval apart.
func (r *Report) checkLive(f1, f2 families, interval time.Duration) {
	// A family missing from the first scrape counts as 0: the first
	// request may come between the scrapes.
	before, _ := f1.sum(familyRequests)
	after, ok := f2.sum(familyRequests)
	if !ok {
		before, _ = f1.sum(familyLegacyRequests)
		after, ok = f2.sum(familyLegacyRequests)
	}
	moving := changed(f1, f2)
	switch {
	case ok && after > before:
		r.add(CheckLive, Pass, fmt.Sprintf("requests flowing: +%s in %s", count(after-before), interval), "")
	case moving:
		r.add(CheckLive, Pass, fmt.Sprintf("values change between scrapes %s apart (no requests in between)", interval), "")
	default:
		r.add(CheckLive, Warn, fmt.Sprintf("nothing changed between two scrapes %s apart", interval),
			"a cached or static endpoint, or an idle gateway: send traffic and run again")
	}
}

// skipRest marks the checks after the failed one as skipped.
func (r *Report) skipRest(why string) {
	for _, name := range []string{CheckExposition, CheckRequests, CheckLatency, CheckReadyPods, CheckPoolGauges, CheckBuildInfo, CheckLive} {
		if _, done := r.Find(name); !done {
			r.add(name, Skip, why, "")
		}
	}
}

// secretToken reads the token from the secret and reports it, filling
// *res; it returns the token and the source's description ("" when no
// token will be sent).
func (r *Report) secretToken(ctx context.Context, s SecretToken, res *secretResult) (string, string) {
	*res = s.inspect(ctx)
	r.add(CheckToken, res.verdict, res.detail, res.fix)
	if res.token == "" {
		return "", ""
	}
	return res.token, s.String()
}

// inCluster runs the checks that look at the cluster's objects; k is nil
// when the cluster cannot be reached. src is the token secret and res what
// reading it found, both nil when the token came from elsewhere.
func (r *Report) inCluster(ctx context.Context, k *kube, c Cluster, src *SecretToken, res *secretResult) {
	if k == nil {
		for _, name := range []string{CheckPods, CheckMetricsPort, CheckMetricsRBAC, CheckSecretRBAC, CheckMonitoring} {
			r.add(name, Skip, "needs cluster access", "")
		}
		return
	}
	set := r.checkPods(ctx, k, c)
	r.checkMetricsPort(set)
	r.checkMetricsRBAC(ctx, k, res)
	r.checkSecretRBAC(ctx, k, c, src, res)
	r.checkMonitoring(ctx, k, set, src)
}

// describeBody hints at what was served instead of an exposition.
func describeBody(s *scrape) string {
	ct := s.header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "html"):
		return " (got HTML)"
	case strings.Contains(ct, "json"):
		return " (got JSON)"
	case ct != "":
		return " (Content-Type " + oneLine(ct) + ")"
	}
	return ""
}
