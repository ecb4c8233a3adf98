package engineio

import (
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// TestMain fails the run when a test leaves goroutines behind: every test
// shuts its servers down and closes its clients.
func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }
