package socketio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// TestClientFiles checks the client bundle's paths, headers, ETag and 304,
// and the codings, against what the reference server's serveClient does.
func TestClientFiles(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	for _, name := range clientFiles {
		fsys[name] = &fstest.MapFile{Data: bytes.Repeat([]byte("/* "+name+" */\n"), 100)}
	}
	delete(fsys, "socket.io.msgpack.min.js.map") // a file the FS lacks
	_, url := newTestServer(t, &Options{ClientFiles: fsys, Engine: engineio.Options{Path: "/rt"}})

	get := func(path string, header http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url+path, nil)
		testutil.NoErr(t, err)
		if header != nil {
			req.Header = header
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
		testutil.NoErr(t, err)
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}
	body := func(res *http.Response) []byte {
		t.Helper()
		var r io.Reader = res.Body
		var err error
		switch res.Header.Get("Content-Encoding") {
		case "gzip":
			r, err = gzip.NewReader(res.Body)
		case "deflate":
			r, err = zlib.NewReader(res.Body)
		}
		testutil.NoErr(t, err)
		b, err := io.ReadAll(r)
		testutil.NoErr(t, err)
		return b
	}

	etags := map[string]bool{}
	for _, name := range clientFiles[:7] {
		res := get("/rt/"+name+"?v=1", http.Header{})
		testutil.Equal(t, res.StatusCode, http.StatusOK)
		want := "application/javascript; charset=utf-8"
		if name[len(name)-4:] == ".map" {
			want = "application/json; charset=utf-8"
		}
		testutil.Equal(t, res.Header.Get("Content-Type"), want)
		testutil.Equal(t, res.Header.Get("Cache-Control"), "public, max-age=0")
		testutil.Equal(t, res.Header.Get("Content-Encoding"), "")
		testutil.Equal(t, body(res), fsys[name].Data)
		etag := res.Header.Get("Etag")
		if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' || etags[etag] {
			t.Errorf("%s: ETag %q, want a quoted tag of its own", name, etag)
		}
		etags[etag] = true

		for _, inm := range []string{etag, "W/" + etag} {
			res = get("/rt/"+name, http.Header{"If-None-Match": {inm}})
			testutil.Equal(t, res.StatusCode, http.StatusNotModified)
			testutil.Equal(t, res.Header.Get("Etag"), "")
			testutil.Equal(t, len(body(res)), 0)
		}
		res = get("/rt/"+name, http.Header{"If-None-Match": {`"other"`}})
		testutil.Equal(t, res.StatusCode, http.StatusOK)
	}

	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br", "gzip"},
		{"deflate, gzip", "deflate"},
		{"gzip;q=0.5, deflate", "deflate"},
		{"br", ""},
		{"*", "gzip"},
		{"gzip;q=0, *", "deflate"},
		{"identity", ""},
	} {
		res := get("/rt/socket.io.js", http.Header{"Accept-Encoding": {tc.accept}})
		testutil.Equal(t, res.Header.Get("Content-Encoding"), tc.want)
		testutil.Equal(t, body(res), fsys["socket.io.js"].Data)
	}

	// A file the FS lacks is 404; other names go to Engine.IO (400).
	testutil.Equal(t, get("/rt/socket.io.msgpack.min.js.map", nil).StatusCode, http.StatusNotFound)
	testutil.Equal(t, get("/rt/other.js", nil).StatusCode, http.StatusBadRequest)
	testutil.Equal(t, get("/socket.io/socket.io.js", nil).StatusCode, http.StatusNotFound)

	// Without ClientFiles nothing is served.
	plain := httptest.NewRecorder()
	none := NewServer(nil)
	none.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/socket.io/socket.io.js", nil))
	testutil.Equal(t, plain.Code, http.StatusBadRequest)
	testutil.NoErr(t, none.Shutdown(context.Background()))
}
