package socketio

import (
	"reflect"
	"testing"

	"github.com/gosio/gosio/adapter"
)

// TestAdapterPlumbingUnexported checks that the methods the adapter needs
// are on the unexported views, not on the user-facing types.
func TestAdapterPlumbingUnexported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ     reflect.Type
		methods []string
	}{
		{reflect.TypeFor[*Socket](), []string{"Deliver", "ExpectAck", "Info"}},
		{reflect.TypeFor[*Namespace](), []string{"HandleServerSideEmit", "NextAckID", "Recovery", "Parser", "Socket"}},
	} {
		for _, m := range tc.methods {
			if _, ok := tc.typ.MethodByName(m); ok {
				t.Errorf("%v has the adapter method %s", tc.typ, m)
			}
		}
	}
	if reflect.TypeFor[*Socket]().Implements(reflect.TypeFor[adapter.Socket]()) {
		t.Error("*Socket implements adapter.Socket")
	}
	if reflect.TypeFor[*Namespace]().Implements(reflect.TypeFor[adapter.Namespace]()) {
		t.Error("*Namespace implements adapter.Namespace")
	}
}
