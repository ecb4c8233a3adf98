package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// peerSource returns the folder of the shared peer name (../shared/peers/
// or $GOSIO_SHARED/peers/), after checking that node, the peer's file
// probe and the npm package pkg in conformance/node_modules are there. A
// missing one skips the test loudly, and fails it under CI=true.
func peerSource(t *testing.T, name, probe, pkg string) string {
	t.Helper()
	needNode(t)
	if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
		if testutil.InCI() {
			t.Fatalf("conformance/node_modules lacks %s (run make npm): %v", pkg, err)
		}
		t.Skipf("SKIPPED: conformance/node_modules lacks %s; run `make npm`", pkg)
	}
	shared := os.Getenv("GOSIO_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "shared")
	}
	src := filepath.Join(shared, "peers", name)
	if _, err := os.Stat(filepath.Join(src, probe)); err != nil {
		if testutil.InCI() {
			t.Fatalf("the %s peers are missing at %s: %v", name, src, err)
		}
		t.Skipf("SKIPPED: the %s peers are missing at %s (set GOSIO_SHARED)", name, src)
	}
	return src
}

// copyPeers copies files of the peer folder src to dir, beside a link to
// conformance/node_modules: the shared folder is read-only, and the
// scripts must resolve the project's pinned packages.
func copyPeers(src, dir string, files ...string) error {
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	nm, err := filepath.Abs("node_modules")
	if err != nil {
		return err
	}
	return os.Symlink(nm, filepath.Join(dir, "node_modules"))
}
