package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/gosio/gosio/engineio"
)

// Handshake is what the server knows of a socket's connection, as plain
// values: the request that opened the Engine.IO session and the CONNECT
// packet's auth payload.
type Handshake struct {
	Headers http.Header     // request headers
	Time    time.Time       // when the Engine.IO session opened
	Address string          // client's network address
	XDomain bool            // the request carried an Origin header
	Secure  bool            // the request came over TLS
	URL     string          // request URI
	Query   url.Values      // URL query parameters
	Auth    json.RawMessage // CONNECT payload; {} when the client sent none
}

// Issued returns Time in milliseconds since the Unix epoch, as the
// reference's handshake.issued.
func (h *Handshake) Issued() int64 { return h.Time.UnixMilli() }

func newHandshake(info *engineio.RequestInfo, auth json.RawMessage) *Handshake {
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	return &Handshake{
		Headers: info.Header,
		Time:    info.Time,
		Address: remoteIP(info.RemoteAddr),
		XDomain: info.Header.Get("Origin") != "",
		Secure:  info.Secure,
		URL:     info.URL,
		Query:   info.Query,
		Auth:    auth,
	}
}

func remoteIP(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			h := addr[:i]
			if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
				h = h[1 : len(h)-1]
			}
			return h
		}
	}
	return addr
}

// MarshalJSON encodes the handshake as the reference server reports it
// (fetchSockets): time as a JavaScript date string, issued in milliseconds.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	headers := make(map[string]string, len(h.Headers))
	for k, v := range h.Headers {
		if len(v) > 0 {
			headers[lowerASCII(k)] = v[0]
		}
	}
	query := make(map[string]string, len(h.Query))
	for k, v := range h.Query {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	return json.Marshal(struct {
		Headers map[string]string `json:"headers"`
		Time    string            `json:"time"`
		Address string            `json:"address"`
		XDomain bool              `json:"xdomain"`
		Secure  bool              `json:"secure"`
		Issued  int64             `json:"issued"`
		URL     string            `json:"url"`
		Query   map[string]string `json:"query"`
		Auth    json.RawMessage   `json:"auth"`
	}{headers, h.Time.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"), h.Address, h.XDomain, h.Secure, h.Issued(), h.URL, query, h.Auth})
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// UnmarshalJSON decodes a handshake in the form MarshalJSON writes, as
// other servers of a cluster report it.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var w struct {
		Headers map[string]any  `json:"headers"`
		Address string          `json:"address"`
		XDomain bool            `json:"xdomain"`
		Secure  bool            `json:"secure"`
		Issued  int64           `json:"issued"`
		URL     string          `json:"url"`
		Query   map[string]any  `json:"query"`
		Auth    json.RawMessage `json:"auth"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	h.Headers = make(http.Header, len(w.Headers))
	for k, v := range w.Headers {
		h.Headers[k] = stringValues(v)
	}
	h.Query = make(url.Values, len(w.Query))
	for k, v := range w.Query {
		h.Query[k] = stringValues(v)
	}
	h.Time = time.UnixMilli(w.Issued)
	h.Address, h.XDomain, h.Secure, h.URL, h.Auth = w.Address, w.XDomain, w.Secure, w.URL, w.Auth
	return nil
}

func stringValues(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
