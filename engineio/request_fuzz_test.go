package engineio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzServeRequest sends arbitrary requests to a server with CORS and an
// origin check: query (EIO, transport, sid, b64), Upgrade and Connection
// tokens, Sec-WebSocket-Key and -Version, Content-Type, Accept-Encoding,
// Origin and the CORS request headers, method and body. The handler must
// never panic and always answer with a status, and an error answer is one
// of the reference's codes.
func FuzzServeRequest(f *testing.F) {
	f.Add("GET", "EIO=4&transport=polling", "", "", "", "", "gzip;q=0, deflate", "https://a.example", "")
	f.Add("GET", "EIO=4&transport=websocket", "WebSocket", "keep-alive, Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", "", "", "", "")
	f.Add("POST", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", "", "", "", "application/octet-stream; charset=x", "", "", "4hi")
	f.Add("OPTIONS", "EIO=4&transport=polling", "", "", "", "", "", "https://b.example", "")
	f.Add("GET", "EIO=3&transport=polling&b64=1&t=%zz", "websocket,h2c", "upgrade", "short", "", "*;q=0.000", "null", "")
	opts := quietOptions()
	opts.PingInterval = time.Hour
	opts.CORS = &CORSOptions{Origins: []string{"https://a.example"}, Credentials: true, MaxAge: time.Minute}
	opts.AllowRequest = AllowOrigins("https://a.example")
	opts.Cookie = &http.Cookie{Name: "io", HttpOnly: true}
	srv := NewServer(opts)
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	f.Fuzz(func(t *testing.T, method, query, upgrade, connection, key, contentType, acceptEncoding, origin, body string) {
		if !validMethod(method) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/engine.io/", strings.NewReader(body))
		req.Method = method
		req.URL.RawQuery = query
		for name, v := range map[string]string{
			"Upgrade": upgrade, "Connection": connection, "Sec-Websocket-Key": key, "Sec-Websocket-Version": "13",
			"Content-Type": contentType, "Accept-Encoding": acceptEncoding, "Origin": origin,
			"Access-Control-Request-Headers": contentType,
		} {
			if v != "" {
				req.Header.Set(name, v)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req = req.WithContext(ctx) // a GET that waits for packets gives up soon
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		_, _ = io.ReadAll(res.Body)
		if res.StatusCode < 100 || res.StatusCode > 599 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

// validMethod reports whether m is a token net/http would have parsed.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
