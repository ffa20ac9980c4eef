package telemetry

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// upstreamFamily is one line of testdata/upstream_families.txt.
type upstreamFamily struct {
	typ     string
	labels  []string
	buckets []float64
}

// readUpstreamFamilies parses testdata/upstream_families.txt.
func readUpstreamFamilies(t *testing.T) map[string]upstreamFamily {
	t.Helper()
	f, err := os.Open("testdata/upstream_families.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buckets := map[string][]float64{}
	out := map[string]upstreamFamily{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "bucket":
			for _, s := range strings.Split(fields[2], ",") {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					t.Fatalf("bucket %s: %v", fields[1], err)
				}
				buckets[fields[1]] = append(buckets[fields[1]], v)
			}
		case "family":
			fam := upstreamFamily{typ: fields[2]}
			if fields[3] != "-" {
				fam.labels = strings.Split(fields[3], ",")
			}
			if fields[4] != "-" {
				b, ok := buckets[fields[4]]
				if !ok {
					t.Fatalf("family %s: unknown bucket list %s", fields[1], fields[4])
				}
				fam.buckets = b
			}
			out[fields[1]] = fam
		default:
			t.Fatalf("bad line %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// deliberateRenames are the label keys infergate renames on purpose: the
// scraper owns namespace (README, "Deliberate differences").
var deliberateRenames = map[string]string{"namespace": "endpoint_namespace"}

// TestUpstreamFamilies checks every family of every name set against
// upstream's source: the same names, types, label keys (after the
// deliberate renames) and bucket boundaries, and that each set emits all
// its families, no more. The legacy inference_model_* set mirrors the GIE
// per-objective families.
func TestUpstreamFamilies(t *testing.T) {
	upstream := readUpstreamFamilies(t)
	for name, f := range upstream {
		if rest, ok := strings.CutPrefix(name, objectivePrefix); ok {
			upstream[legacyPrefix+rest] = f
		}
	}
	inSet := func(name string, s NameSets) bool {
		switch {
		case strings.HasPrefix(name, llmdPrefix):
			return s.LLMD
		case strings.HasPrefix(name, legacyPrefix):
			return s.Legacy
		default:
			return s.GIE
		}
	}
	for _, sets := range []NameSets{{LLMD: true}, {GIE: true}, {Legacy: true}, AllNameSets()} {
		reg := prometheus.NewRegistry()
		recordSequence(NewMetrics(reg, Options{NameSets: sets, Plugins: scheduler.DefaultConfig().Plugins()}))
		store := pool.NewStore("pool-a")
		snap := store.Sync([]pool.Spec{{Name: "vllm-0", Address: "10.0.0.1:8000"}})
		snap.Endpoints()[0].SetMetrics(&pool.Metrics{WaitingQueue: 1, ScrapedAt: time.Now()})
		reg.MustRegister(NewPoolCollector(store, 0, nil, sets))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*dto.MetricFamily{}
		for _, mf := range mfs {
			if !strings.HasPrefix(mf.GetName(), "infergate_") {
				got[mf.GetName()] = mf
			}
		}
		for name, want := range upstream {
			mf, ok := got[name]
			if !inSet(name, sets) {
				if ok {
					t.Errorf("%+v: %s emitted, but its name set is off", sets, name)
				}
				continue
			}
			if !ok {
				t.Errorf("%+v: %s missing", sets, name)
				continue
			}
			if typ := strings.ToLower(mf.GetType().String()); typ != want.typ {
				t.Errorf("%s: type %s, upstream %s", name, typ, want.typ)
			}
			wantLabels := []string{}
			for _, l := range want.labels {
				if r, ok := deliberateRenames[l]; ok {
					l = r
				}
				wantLabels = append(wantLabels, l)
			}
			slices.Sort(wantLabels)
			for _, m := range mf.GetMetric() {
				var keys []string
				for _, lp := range m.GetLabel() {
					keys = append(keys, lp.GetName())
				}
				slices.Sort(keys)
				if !slices.Equal(keys, wantLabels) {
					t.Errorf("%s: label keys %v, upstream %v", name, keys, wantLabels)
				}
				if h := m.GetHistogram(); h != nil {
					var bounds []float64
					for _, b := range h.GetBucket() {
						bounds = append(bounds, b.GetUpperBound())
					}
					if !slices.Equal(bounds, want.buckets) {
						t.Errorf("%s: buckets %v, upstream %v", name, bounds, want.buckets)
					}
				}
				if strings.HasPrefix(name, objectivePrefix) || strings.HasPrefix(name, poolPrefix) ||
					(strings.HasPrefix(name, extensionPrefix) && name != extensionPrefix+"info") {
					if !strings.Contains(mf.GetHelp(), "[Deprecated: Use llm_d_epp_") {
						t.Errorf("%s: HELP %q lacks upstream's deprecation marker", name, mf.GetHelp())
					}
				}
				break // one series shows the family's shape
			}
			delete(got, name)
		}
		for name := range got {
			t.Errorf("%+v: %s is not an upstream family", sets, name)
		}
	}
}
