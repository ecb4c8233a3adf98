package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"sync/atomic"
)

var idCounter atomic.Uint32

// idEncoding is standard base64 with '/' and '+' replaced by '_' and '-',
// as the reference server's session ids use.
var idEncoding = base64.URLEncoding

// NewID returns a new 20-character identifier made of 12 random bytes and
// a 3-byte counter, in the format of the reference server's session ids.
// Socket.IO uses the same format for socket ids and private session ids.
func NewID() string {
	var b [15]byte
	_, _ = rand.Read(b[:12])
	n := idCounter.Add(1)
	b[12], b[13], b[14] = byte(n>>16), byte(n>>8), byte(n)
	return idEncoding.EncodeToString(b[:])
}
