package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corePackages are the transport-free packages, as go list patterns relative
// to the module root.
var corePackages = []string{
	"./internal/pool",
	"./internal/scheduler/...",
	"./internal/admission",
	"./internal/router",
	"./internal/openai",
	"./internal/exchange",
}

// optionalCorePackages are core packages that may not exist yet; they are
// checked once their directory exists.
var optionalCorePackages = []string{}

// forbiddenPrefixes are import paths (and the trees under them) a core
// package must not depend on.
var forbiddenPrefixes = []string{
	"net/http",
	"google.golang.org/grpc",
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/prometheus/",
	"go.opentelemetry.io/",
}

// forbidden reports whether importing path breaks the rule.
func forbidden(path string) bool {
	for _, p := range forbiddenPrefixes {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// listedPackage is the part of go list -json output the test reads.
type listedPackage struct {
	ImportPath string
	Imports    []string
	DepOnly    bool
}

// importGraph maps a package to its direct (non-test) imports.
type importGraph map[string][]string

// violations returns, for every forbidden package root depends on, the
// import chain from root to it, shortest first.
func (g importGraph) violations(root string) [][]string {
	parent := map[string]string{root: ""}
	queue := []string{root}
	var out [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if forbidden(p) {
			var chain []string
			for q := p; q != ""; q = parent[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			out = append(out, chain)
			continue // what it imports in turn is its own business
		}
		for _, imp := range g[p] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return out
}

// moduleRoot is the repository root, two levels above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

// listDeps runs go list -deps -json over patterns in dir and returns the
// import graph and the packages the patterns matched.
func listDeps(t *testing.T, dir string, patterns []string) (importGraph, []string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the import test needs the go command: %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"list", "-deps", "-json=ImportPath,Imports,DepOnly"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	g := importGraph{}
	var roots []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		g[p.ImportPath] = p.Imports
		if !p.DepOnly {
			roots = append(roots, p.ImportPath)
		}
	}
	return g, roots
}

// TestCorePackagesImportNoTransport fails when a core package depends,
// directly or transitively, on a transport or exporter package.
func TestCorePackagesImportNoTransport(t *testing.T) {
	root := moduleRoot(t)
	patterns := slices.Clone(corePackages)
	for _, p := range optionalCorePackages {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			patterns = append(patterns, p)
		}
	}
	g, roots := listDeps(t, root, patterns)
	if len(roots) < len(corePackages) {
		t.Fatalf("go list matched %d packages for %d patterns: %v", len(roots), len(corePackages), roots)
	}
	for _, r := range roots {
		for _, chain := range g.violations(r) {
			t.Errorf("core package %s must not import %s: %s", r, chain[len(chain)-1], strings.Join(chain, " → "))
		}
	}
}

// TestViolations checks the graph walk on a small graph: a transitive
// forbidden import is found with its chain, lookalike paths are not.
func TestViolations(t *testing.T) {
	g := importGraph{
		"core":       {"fmt", "core/inner", "net/httpish", "k8s.io.example/x"},
		"core/inner": {"other", "github.com/prometheus/client_golang/prometheus"},
		"other":      {"net/http/httptrace"},
		"github.com/prometheus/client_golang/prometheus": {"net/http"},
	}
	got := g.violations("core")
	want := [][]string{
		{"core", "core/inner", "github.com/prometheus/client_golang/prometheus"},
		{"core", "core/inner", "other", "net/http/httptrace"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("violations = %q, want %q", got, want)
	}
}
