package bench

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// builtin holds the built-in suites, one YAML file each.
//
//go:embed suites/*.yaml
var builtin embed.FS

// SuiteNames lists the built-in suites.
func SuiteNames() []string {
	entries, _ := fs.ReadDir(builtin, "suites")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// BuiltinSuite returns the YAML source of the built-in suite name.
func BuiltinSuite(name string) ([]byte, error) {
	data, err := builtin.ReadFile("suites/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in suite %q (have %s)", name, strings.Join(SuiteNames(), ", "))
	}
	return data, nil
}
