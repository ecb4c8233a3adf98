package engineio

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// applyCORS sets the CORS headers and answers a preflight request, in
// which case it reports true.
func (srv *Server) applyCORS(w http.ResponseWriter, r *http.Request) bool {
	c := srv.opts.CORS
	h := w.Header()
	origin := r.Header.Get("Origin")
	anyOrigin := c.Origins == nil || slices.Contains(c.Origins, "*")
	switch {
	case anyOrigin && !c.Credentials:
		h.Set("Access-Control-Allow-Origin", "*")
	case origin != "" && (anyOrigin || slices.Contains(c.Origins, origin)):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if c.AllowedHeaders != nil {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}
