package msgpackparser_test

import (
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }
