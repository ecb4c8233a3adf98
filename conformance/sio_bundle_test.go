package conformance

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosio/gosio/socketio"
)

// TestSioClientBundle asks a Node socket.io 4.8 server (serveClient, its
// default) and gosio serving the same client-dist through
// Options.ClientFiles for each client file, with and without codings and
// conditional requests, and compares the answers: status, Cache-Control,
// Content-Type, Content-Encoding, the decoded body, and 304 to the ETag
// each gave (strong or weak). Brotli is the one difference: where Node
// answers br, gosio must answer gzip.
func TestSioClientBundle(t *testing.T) {
	nodeURL := startNodeSIOServer(t)
	dist := filepath.Join("node_modules", "socket.io", "client-dist")
	srv := socketio.NewServer(&socketio.Options{ClientFiles: os.DirFS(dist)})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})

	type answer struct {
		status                     int
		cache, ctype, coding, etag string
		body                       []byte
	}
	ask := func(base, path string, header http.Header) answer {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r io.Reader = res.Body
		switch res.Header.Get("Content-Encoding") {
		case "gzip":
			r, err = gzip.NewReader(res.Body)
		case "deflate":
			r, err = zlib.NewReader(res.Body)
		case "br":
			r = bytes.NewReader(nil) // not decoded: no Brotli in the standard library
		}
		if err != nil {
			t.Fatalf("%s%s: %v", base, path, err)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s%s: %v", base, path, err)
		}
		return answer{res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"),
			res.Header.Get("Content-Encoding"), res.Header.Get("Etag"), body}
	}

	files := []string{
		"socket.io.esm.min.js", "socket.io.esm.min.js.map", "socket.io.js", "socket.io.js.map",
		"socket.io.min.js", "socket.io.min.js.map", "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
	}
	codings := []string{"", "gzip", "deflate", "gzip, deflate", "deflate, gzip", "gzip;q=0.5, deflate", "gzip, deflate, br", "br"}
	for _, name := range files {
		want, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, ae := range codings {
			h := http.Header{}
			if ae != "" {
				h.Set("Accept-Encoding", ae)
			}
			n, g := ask(nodeURL, "/socket.io/"+name, h), ask(hs.URL, "/socket.io/"+name, h)
			if n.status != 200 || g.status != n.status || g.cache != n.cache || g.ctype != n.ctype {
				t.Errorf("%s (Accept-Encoding %q): gosio %d %q %q, Node %d %q %q", name, ae,
					g.status, g.cache, g.ctype, n.status, n.cache, n.ctype)
			}
			wantCoding := n.coding
			if wantCoding == "br" {
				wantCoding = "gzip" // gosio has no Brotli
				if ae == "br" {
					wantCoding = ""
				}
			}
			if g.coding != wantCoding {
				t.Errorf("%s (Accept-Encoding %q): gosio coding %q, Node %q (want %q)", name, ae, g.coding, n.coding, wantCoding)
			}
			if !bytes.Equal(g.body, want) || (n.coding != "br" && !bytes.Equal(n.body, want)) {
				t.Errorf("%s (Accept-Encoding %q): bodies differ from the file (gosio %d bytes, Node %d, file %d)",
					name, ae, len(g.body), len(n.body), len(want))
			}
		}
		// Each server's own ETag, strong or weak, gets a bare 304.
		for base, etag := range map[string]string{nodeURL: ask(nodeURL, "/socket.io/"+name, nil).etag, hs.URL: ask(hs.URL, "/socket.io/"+name, nil).etag} {
			if len(etag) < 3 || etag[0] != '"' {
				t.Errorf("%s%s: ETag %q, want a quoted one", base, name, etag)
			}
			for _, inm := range []string{etag, "W/" + etag} {
				a := ask(base, "/socket.io/"+name, http.Header{"If-None-Match": {inm}})
				if a.status != http.StatusNotModified || a.etag != "" || a.cache != "" || a.ctype != "" || len(a.body) != 0 {
					t.Errorf("%s/socket.io/%s with If-None-Match %s: %+v, want a bare 304", base, name, inm, a)
				}
			}
			if a := ask(base, "/socket.io/"+name, http.Header{"If-None-Match": {`"other"`}}); a.status != 200 {
				t.Errorf("%s/socket.io/%s with another ETag: %d, want 200", base, name, a.status)
			}
		}
	}
	// Other names under the path are Engine.IO requests for both.
	for _, path := range []string{"/socket.io/other.js", "/socket.io/socket.io.js.gz", "/socket.io/dist/socket.io.js"} {
		n, g := ask(nodeURL, path, nil), ask(hs.URL, path, nil)
		if g.status != n.status || !bytes.Equal(g.body, n.body) {
			t.Errorf("%s: gosio %d %q, Node %d %q", path, g.status, g.body, n.status, n.body)
		}
	}
}
