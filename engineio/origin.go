package engineio

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// ErrOriginNotAllowed is the error of the AllowRequest function made by
// AllowOrigins for a request from an origin it does not list.
var ErrOriginNotAllowed = errors.New("engineio: origin not allowed")

// AllowOrigins returns a function for Options.AllowRequest that refuses
// the handshake of a session, over polling or WebSocket, whose Origin
// header is set and is none of origins (compared without regard to case,
// as "https://example.com"; "*" allows any). A request without an Origin
// header does not come from a cross-origin page (browsers send Origin
// with every WebSocket handshake and cross-origin request) and is allowed.
//
// The server checks no origin by itself: CORSOptions only governs what
// browsers let pages read from polling responses, and a WebSocket
// handshake from any origin is accepted unless AllowRequest refuses it.
func AllowOrigins(origins ...string) func(r *http.Request) error {
	allowed := make([]string, len(origins))
	for i, o := range origins {
		allowed[i] = strings.ToLower(strings.TrimSuffix(o, "/"))
	}
	anyOrigin := slices.Contains(allowed, "*")
	return func(r *http.Request) error {
		origin := r.Header.Get("Origin")
		if origin == "" || anyOrigin || slices.Contains(allowed, strings.ToLower(origin)) {
			return nil
		}
		return ErrOriginNotAllowed
	}
}
