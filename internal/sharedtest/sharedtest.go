// Package sharedtest holds test helpers: it locates the project's offline real data (the shared/data
// folder next to the repository root, ../shared/data from it) for tests that
// run against real files, and skips those tests with a clear message when it is
// absent (tests must only read from it), and checks the generated parts of the
// documentation (Generated).
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Env overrides the location of the shared data folder.
const Env = "DMMD_SHARED_DATA"

// Root returns the shared data folder, or "" and the places looked at.
func Root() (string, []string) {
	if d := os.Getenv(Env); d != "" {
		return d, []string{d}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", nil
	}
	var looked []string
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			for _, c := range []string{filepath.Join(dir, "..", "shared", "data"), filepath.Join(dir, "shared", "data")} {
				c = filepath.Clean(c)
				looked = append(looked, c)
				if st, err := os.Stat(c); err == nil && st.IsDir() {
					return c, looked
				}
			}
			return "", looked
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", looked
		}
		dir = parent
	}
}

// Path returns the shared data file or folder rel (slash-separated, e.g.
// "mnist/train-images-idx3-ubyte.gz"), skipping the test if it is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root, looked := Root()
	if root == "" {
		tb.Skipf("real-data test skipped: shared data folder not found (looked at %q; set %s to point at it)", looked, Env)
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("real-data test skipped: %v", err)
	}
	return p
}
