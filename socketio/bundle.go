package socketio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// clientFiles are the files of the client bundle the reference server
// serves (socket.io's CLIENT_FILES), as found in socket.io-client's dist
// directory and socket.io's client-dist.
var clientFiles = []string{
	"socket.io.esm.min.js",
	"socket.io.esm.min.js.map",
	"socket.io.js",
	"socket.io.js.map",
	"socket.io.min.js",
	"socket.io.min.js.map",
	"socket.io.msgpack.min.js",
	"socket.io.msgpack.min.js.map",
}

// A bundle serves the client files of Options.ClientFiles.
type bundle struct {
	path  string // the server's path, with its trailing slash
	files map[string]*bundleFile
}

// A bundleFile is one client file, read on first request and kept.
type bundleFile struct {
	fsys fs.FS
	name string

	once    sync.Once
	err     error
	etag    string            // quoted, as RFC 9110 section 8.8.3 wants
	encoded map[string][]byte // "" (identity), "gzip", "deflate"
}

func newBundle(fsys fs.FS, path string) *bundle {
	b := &bundle{path: path, files: make(map[string]*bundleFile, len(clientFiles))}
	for _, name := range clientFiles {
		b.files[name] = &bundleFile{fsys: fsys, name: name}
	}
	return b
}

// load reads the file and prepares its compressed forms.
func (f *bundleFile) load() {
	data, err := fs.ReadFile(f.fsys, f.name)
	if err != nil {
		f.err = err
		return
	}
	sum := sha256.Sum256(data)
	f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	f.encoded = map[string][]byte{"": data}
	var gz, zl bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw, _ := zlib.NewWriterLevel(&zl, zlib.BestCompression)
	for _, w := range []interface {
		Write([]byte) (int, error)
		Close() error
	}{gw, zw} {
		_, _ = w.Write(data)
		_ = w.Close()
	}
	f.encoded["gzip"] = gz.Bytes()
	f.encoded["deflate"] = zl.Bytes()
}

// serve answers r if it asks for a client file, and reports whether it
// did. As the reference server does, it answers any method: 304 without
// headers when If-None-Match is the file's ETag (strong or weak), the
// file otherwise, with Cache-Control "public, max-age=0", the content
// type, the ETag and, when the client accepts it, gzip or deflate.
func (b *bundle) serve(w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, b.path)
	if !ok {
		return false
	}
	f := b.files[name]
	if f == nil {
		return false
	}
	f.once.Do(f.load)
	if f.err != nil {
		http.Error(w, "socketio: client file "+name+" cannot be read", http.StatusNotFound)
		return true
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == f.etag || inm == "W/"+f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	h.Set("Etag", f.etag)
	enc := bundleEncoding(r.Header.Get("Accept-Encoding"))
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	body := f.encoded[enc]
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
	return true
}

// bundleEncoding picks the coding of a client file from an
// Accept-Encoding header as the reference server does among br, gzip and
// deflate: the highest quality, ties going to the one listed first; there
// being no Brotli in the standard library, br is never picked, and gzip
// or deflate is used when the client also accepts one. It returns "" for
// none.
func bundleEncoding(header string) string {
	best, bestQ, wild := "", 0.0, 0.0
	listed := map[string]bool{}
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		switch coding {
		case "gzip", "deflate":
			listed[coding] = true
			if q > bestQ {
				best, bestQ = coding, q
			}
		case "*":
			wild = q
		}
	}
	if best == "" && wild > 0 {
		for _, coding := range []string{"gzip", "deflate"} {
			if !listed[coding] {
				return coding
			}
		}
	}
	return best
}
