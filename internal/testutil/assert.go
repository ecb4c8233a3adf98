package testutil

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Equal fails the test when got and want differ, printing a diff.
func Equal[T any](tb testing.TB, got, want T, opts ...cmp.Option) {
	tb.Helper()
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		tb.Fatalf("mismatch (-want +got):\n%s", diff)
	}
}

// NoErr fails the test when err is not nil.
func NoErr(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}
