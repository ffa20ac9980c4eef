package kube

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestRenderToolVersions keeps the renderer versions the tests expect,
// the Makefile's and hack/render/go.mod's in step, so the cached binaries'
// names never lie.
func TestRenderToolVersions(t *testing.T) {
	gomod := readText(t, "../../hack/render/go.mod")
	makefile := readText(t, "../../Makefile")
	tests := []struct {
		module, makeVar, want string
	}{
		{module: "sigs.k8s.io/kustomize/kustomize/v5", makeVar: "KUSTOMIZE_VERSION", want: kustomizeVersion},
		{module: "helm.sh/helm/v4", makeVar: "HELM_VERSION", want: helmVersion},
	}
	for _, tc := range tests {
		t.Run(tc.module, func(t *testing.T) {
			if m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(tc.module) + `\s+(v\S+)`).FindStringSubmatch(gomod); m == nil || m[1] != tc.want {
				t.Errorf("hack/render/go.mod requires %s %v; the tests expect %s", tc.module, m, tc.want)
			}
			if m := regexp.MustCompile(`(?m)^` + tc.makeVar + `\s*:=\s*(\S+)`).FindStringSubmatch(makefile); m == nil || m[1] != tc.want {
				t.Errorf("Makefile %s %v; the tests expect %s", tc.makeVar, m, tc.want)
			}
		})
	}
}

// TestDockerfile checks the image recipe against what the manifests and
// the module assume: the builder's Go is the go.mod's release, the build is
// static, and the image runs as the non-root UID the pods' security
// context names.
func TestDockerfile(t *testing.T) {
	lines := dockerInstructions(t, "../../Dockerfile")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readText(t, "../../go.mod"))
	if goVersion == nil {
		t.Fatal("no go directive in go.mod")
	}
	var from []string
	var user string
	var build bool
	for _, l := range lines {
		switch f := strings.Fields(l); strings.ToUpper(f[0]) {
		case "FROM":
			from = append(from, l)
		case "USER":
			user = f[1]
		case "RUN":
			if strings.Contains(l, "go build") {
				build = strings.Contains(l, "CGO_ENABLED=0") && strings.Contains(l, "-trimpath") && strings.Contains(l, "./cmd/infergate")
			}
		}
	}
	if len(from) != 2 || !strings.Contains(from[0], "golang:"+goVersion[1]+" ") {
		t.Errorf("FROM lines %q; want a golang:%s builder and a final stage", from, goVersion[1])
	}
	if len(from) > 0 && !strings.Contains(from[len(from)-1], "distroless/static") && !strings.Contains(from[len(from)-1], "scratch") {
		t.Errorf("final stage %q; want distroless/static or scratch", from[len(from)-1])
	}
	if !build {
		t.Error("no static (CGO_ENABLED=0), -trimpath build of ./cmd/infergate")
	}
	uid, _, _ := strings.Cut(user, ":")
	dep := asTyped[appsv1.Deployment](t, readObjects(t, "../../deploy/kustomize/base/deployment.yaml").get(t, "Deployment", "default", "infergate"))
	if sc := dep.Spec.Template.Spec.SecurityContext; uid == "" || uid == "0" || sc == nil || sc.RunAsUser == nil || uid != itoa(*sc.RunAsUser) {
		t.Errorf("Dockerfile USER %q; want the non-root UID the Deployment runs as", user)
	}
}

// dockerInstructions returns the Dockerfile's instructions, continuation
// lines joined, comments dropped.
func dockerInstructions(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(readText(t, path)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s)
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}
