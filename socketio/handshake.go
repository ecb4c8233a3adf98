package socketio

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/jsonscan"
)

// Handshake is what the server knows of a socket's connection, as plain
// values: the request that opened the Engine.IO session and the CONNECT
// packet's auth payload.
type Handshake struct {
	Headers http.Header // request headers (net/http keeps Host out of them)
	Host    string      // the Host header
	Time    time.Time   // when the Engine.IO session opened
	Address string      // client's network address
	XDomain bool        // the request carried an Origin header
	Secure  bool        // the request came over TLS
	URL     string      // request URI
	Query   url.Values  // URL query parameters
	// Auth is the CONNECT payload; {} when the client sent none.
	Auth json.RawMessage
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
		Host:    info.Host,
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

// MarshalJSON encodes the handshake as JSON.stringify encodes Node
// socket.io 4.8's socket.handshake, which is what the reference's cluster
// adapters carry in fetchSockets responses:
//
//	{"headers":{..},"time":"Wed Dec 02 2026 18:57:30 GMT+0000 (Coordinated Universal Time)",
//	 "address":..,"xdomain":..,"secure":..,"issued":<ms>,"url":..,"query":{..},"auth":{..}}
//
// headers follows Node's http.IncomingMessage.headers: lower-case names;
// repeated headers joined with ", ", cookie with "; ", set-cookie an array
// (always), and only the first value of age, authorization,
// content-length, content-type, etag, expires, from, host,
// if-modified-since, if-unmodified-since, last-modified, location,
// max-forwards, proxy-authorization, referer, retry-after, server and
// user-agent. Values are decoded as Latin-1, as Node decodes header bytes.
// Host comes from the Host field unless Headers has one.
//
// query follows engine.io 6.6's req._query, Object.fromEntries of the
// URL's searchParams: one string per key, the last value of a repeated
// key.
//
// Keys are in JavaScript's object order: integer-like keys ("0", "10")
// first, in numeric order, then the others in insertion order. Node inserts
// headers in the order they came on the wire, which http.Header does not
// keep: they come sorted here. Query keys come in the order of their
// first appearance in URL (keys missing from URL, sorted, after them).
// Known difference: url.ParseQuery drops pairs Node keeps (a key with a
// ';', an invalid %-escape), so they are missing from query.
//
// time is JavaScript's Date.toString form in Time's location. The zone
// name in parentheses is the long name ICU gives (Coordinated Universal
// Time for UTC) for common zones, recognized by their abbreviation and
// offset; a zone without an abbreviation (Go's "-03") is written
// "GMT-03:00", as ICU writes zones it cannot name, and an unknown
// abbreviation is written as is, where Node would write a long name.
//
// Strings are escaped as JSON.stringify escapes them, without HTML
// escaping (json.Marshal escapes <, > and & again: the same value).
func (h *Handshake) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, `{"headers":`...)
	b = h.appendHeaders(b)
	b = append(b, `,"time":`...)
	b = clusterwire.AppendString(b, jsDateString(h.Time))
	b = append(b, `,"address":`...)
	b = clusterwire.AppendString(b, h.Address)
	b = append(b, `,"xdomain":`...)
	b = strconv.AppendBool(b, h.XDomain)
	b = append(b, `,"secure":`...)
	b = strconv.AppendBool(b, h.Secure)
	b = append(b, `,"issued":`...)
	b = strconv.AppendInt(b, h.Issued(), 10)
	b = append(b, `,"url":`...)
	b = clusterwire.AppendString(b, h.URL)
	b = append(b, `,"query":`...)
	b = h.appendQuery(b)
	b = append(b, `,"auth":`...)
	if len(h.Auth) == 0 {
		b = append(b, "{}"...)
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, h.Auth); err != nil {
			return nil, err
		}
		b = append(b, buf.Bytes()...)
	}
	return append(b, '}'), nil
}

// headerRule is how Node's IncomingMessage merges a repeated header.
type headerRule int

const (
	joinComma     headerRule = iota // ", "
	joinSemicolon                   // cookie: "; "
	asArray                         // set-cookie
	firstOnly                       // the rest are dropped
)

func ruleOf(name string) headerRule {
	switch name {
	case "set-cookie":
		return asArray
	case "cookie":
		return joinSemicolon
	case "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
		"if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
		"proxy-authorization", "referer", "retry-after", "server", "user-agent":
		return firstOnly
	}
	return joinComma
}

func (h *Handshake) appendHeaders(b []byte) []byte {
	names := make([]string, 0, len(h.Headers)+1)
	values := make(map[string][]string, len(h.Headers)+1)
	for k, v := range h.Headers {
		if len(v) == 0 {
			continue
		}
		name := strings.ToLower(k)
		if _, dup := values[name]; !dup {
			names = append(names, name)
		}
		values[name] = append(values[name], v...)
	}
	if _, ok := values["host"]; !ok && h.Host != "" {
		names = append(names, "host")
		values["host"] = []string{h.Host}
	}
	slices.Sort(names)
	b = append(b, '{')
	for i, name := range jsKeyOrder(names) {
		if i > 0 {
			b = append(b, ',')
		}
		b = clusterwire.AppendString(b, name)
		b = append(b, ':')
		v := values[name]
		switch ruleOf(name) {
		case asArray:
			b = append(b, '[')
			for j, s := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = clusterwire.AppendString(b, latin1(s))
			}
			b = append(b, ']')
			continue
		case firstOnly:
			v = v[:1]
		}
		sep := ", "
		if ruleOf(name) == joinSemicolon {
			sep = "; "
		}
		b = clusterwire.AppendString(b, latin1(strings.Join(v, sep)))
	}
	return append(b, '}')
}

func (h *Handshake) appendQuery(b []byte) []byte {
	keys := make([]string, 0, len(h.Query))
	seen := make(map[string]bool, len(h.Query))
	add := func(k string) {
		if v, ok := h.Query[k]; ok && len(v) > 0 && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	// The order of first appearance in the URL, decoded as url.ParseQuery
	// decodes it.
	if _, raw, ok := strings.Cut(h.URL, "?"); ok {
		for raw != "" {
			var pair string
			pair, raw, _ = strings.Cut(raw, "&")
			k, _, _ := strings.Cut(pair, "=")
			if k, err := url.QueryUnescape(k); err == nil {
				add(k)
			}
		}
	}
	if len(keys) < len(h.Query) {
		rest := make([]string, 0, len(h.Query)-len(keys))
		for k, v := range h.Query {
			if len(v) > 0 && !seen[k] {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		keys = append(keys, rest...)
	}
	b = append(b, '{')
	for i, k := range jsKeyOrder(keys) {
		if i > 0 {
			b = append(b, ',')
		}
		b = clusterwire.AppendString(b, k)
		b = append(b, ':')
		v := h.Query[k]
		b = clusterwire.AppendString(b, v[len(v)-1])
	}
	return append(b, '}')
}

// jsKeyOrder reorders keys, given in insertion order, as a JavaScript object
// enumerates them: array-index keys first, ascending, then the others.
func jsKeyOrder(keys []string) []string {
	n := 0
	for _, k := range keys {
		if _, ok := arrayIndex(k); ok {
			n++
		}
	}
	if n == 0 {
		return keys
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, ok := arrayIndex(k); ok {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := arrayIndex(a)
		y, _ := arrayIndex(b)
		return cmp.Compare(x, y)
	})
	for _, k := range keys {
		if _, ok := arrayIndex(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

// arrayIndex reports whether k is the canonical form of a JavaScript array
// index (0 to 2^32-2).
func arrayIndex(k string) (uint32, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false // most keys: no ParseUint, whose error allocates
		}
	}
	n, err := strconv.ParseUint(k, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// latin1 returns the header bytes of s decoded as Latin-1, as Node decodes
// them.
func latin1(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	r := make([]rune, 0, len(s))
	for j := range len(s) {
		r = append(r, rune(s[j]))
	}
	return string(r)
}

// fromLatin1 undoes latin1 when s holds only Latin-1 characters.
func fromLatin1(s string) string {
	ascii := true
	for _, r := range s {
		if r > 0xFF {
			return s
		}
		if r >= utf8.RuneSelf {
			ascii = false
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

// jsDateLayout is JavaScript's Date.prototype.toString up to the zone name.
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700"

// zoneNames maps Go zone abbreviations, with their UTC offset in seconds,
// to the long names ICU (and so Node) writes for them.
var zoneNames = map[zoneKey]string{
	{"UTC", 0}:       "Coordinated Universal Time",
	{"GMT", 0}:       "Greenwich Mean Time",
	{"BST", 3600}:    "British Summer Time",
	{"IST", 3600}:    "Irish Standard Time",
	{"WET", 0}:       "Western European Standard Time",
	{"WEST", 3600}:   "Western European Summer Time",
	{"CET", 3600}:    "Central European Standard Time",
	{"CEST", 7200}:   "Central European Summer Time",
	{"EET", 7200}:    "Eastern European Standard Time",
	{"EEST", 10800}:  "Eastern European Summer Time",
	{"IST", 7200}:    "Israel Standard Time",
	{"IDT", 10800}:   "Israel Daylight Time",
	{"MSK", 10800}:   "Moscow Standard Time",
	{"IST", 19800}:   "India Standard Time",
	{"CST", 28800}:   "China Standard Time",
	{"HKT", 28800}:   "Hong Kong Standard Time",
	{"JST", 32400}:   "Japan Standard Time",
	{"KST", 32400}:   "Korean Standard Time",
	{"AEST", 36000}:  "Australian Eastern Standard Time",
	{"AEDT", 39600}:  "Australian Eastern Daylight Time",
	{"NZST", 43200}:  "New Zealand Standard Time",
	{"NZDT", 46800}:  "New Zealand Daylight Time",
	{"EST", -18000}:  "Eastern Standard Time",
	{"EDT", -14400}:  "Eastern Daylight Time",
	{"CST", -21600}:  "Central Standard Time",
	{"CDT", -18000}:  "Central Daylight Time",
	{"MST", -25200}:  "Mountain Standard Time",
	{"MDT", -21600}:  "Mountain Daylight Time",
	{"PST", -28800}:  "Pacific Standard Time",
	{"PDT", -25200}:  "Pacific Daylight Time",
	{"AKST", -32400}: "Alaska Standard Time",
	{"AKDT", -28800}: "Alaska Daylight Time",
	{"HST", -36000}:  "Hawaii-Aleutian Standard Time",
}

type zoneKey struct {
	abbr   string
	offset int
}

// jsDateString returns t as JavaScript's Date.prototype.toString writes it.
func jsDateString(t time.Time) string {
	name, offset := t.Zone()
	b := t.AppendFormat(make([]byte, 0, 64), jsDateLayout)
	b = append(b, " ("...)
	if long, ok := zoneNames[zoneKey{name, offset}]; ok {
		b = append(b, long...)
	} else if name == "" || name[0] == '+' || name[0] == '-' {
		b = append(b, "GMT"...)
		if offset != 0 {
			sign := byte('+')
			if offset < 0 {
				sign, offset = '-', -offset
			}
			b = append(b, sign, byte('0'+offset/36000), byte('0'+offset/3600%10), ':',
				byte('0'+offset/600%6), byte('0'+offset/60%10))
		}
	} else {
		b = append(b, name...)
	}
	return string(append(b, ')'))
}

// parseJSDate parses what jsDateString writes. The location is UTC for
// "Coordinated Universal Time", else a fixed zone named by the
// abbreviation zoneNames gives for the long name, or by the long name.
func parseJSDate(s string) (time.Time, bool) {
	head, zone, hasZone := strings.Cut(s, " (")
	t, err := time.Parse(jsDateLayout, head)
	if err != nil {
		return time.Time{}, false
	}
	_, offset := t.Zone()
	name := ""
	if hasZone {
		name = strings.TrimSuffix(zone, ")")
	}
	if offset == 0 && (name == "Coordinated Universal Time" || name == "") {
		return t.In(time.UTC), true
	}
	for k, long := range zoneNames {
		if long == name && k.offset == offset {
			name = k.abbr
			break
		}
	}
	if name == "" {
		return t, true
	}
	return t.In(time.FixedZone(name, offset)), true
}

// UnmarshalJSON decodes a handshake in the form MarshalJSON writes, which
// is also what Node servers of a cluster report. Header and query values
// may be strings or arrays of strings; a header's joined value stays one
// value, and host goes to Host. Time is issued's instant in the zone time
// names; without issued, time itself (to the second).
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var w wireHandshake
	if !handshakeFastPath || !w.decodeFast(b) {
		w = wireHandshake{}
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
	}
	h.Headers = make(http.Header, len(w.Headers))
	h.Host = ""
	for k, v := range w.Headers {
		vals := stringValues(v)
		for i, s := range vals {
			vals[i] = fromLatin1(s)
		}
		if strings.EqualFold(k, "host") {
			if len(vals) > 0 {
				h.Host = vals[0]
			}
			continue
		}
		h.Headers[http.CanonicalHeaderKey(k)] = vals
	}
	h.Query = make(url.Values, len(w.Query))
	for k, v := range w.Query {
		h.Query[k] = stringValues(v)
	}
	t, parsed := parseJSDate(w.Time)
	switch {
	case w.Issued != nil && parsed:
		h.Time = time.UnixMilli(int64(*w.Issued)).In(t.Location())
	case w.Issued != nil:
		h.Time = time.UnixMilli(int64(*w.Issued))
	case parsed:
		h.Time = t
	default:
		h.Time = time.Time{}
	}
	h.Address, h.XDomain, h.Secure, h.URL, h.Auth = w.Address, w.XDomain, w.Secure, w.URL, w.Auth
	return nil
}

// wireHandshake is the JSON shape of a handshake, as Node writes
// socket.handshake.
type wireHandshake struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  *float64        `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// handshakeFastPath turns decodeFast on (off only to measure the
// encoding/json route in BenchmarkHandshakeUnmarshal).
var handshakeFastPath = true

var wireHandshakeKeys = [...]string{"headers", "time", "address", "xdomain", "secure", "issued", "url", "query", "auth"}

// decodeFast decodes b in one pass when it has the shape Node writes
// (each known key once, with the JSON type its field wants; headers and
// query values strings or arrays of strings) and reports whether it did.
// Anything else is left to encoding/json, which then gives the same w
// (FuzzHandshakeFastPath) or the error.
func (w *wireHandshake) decodeFast(b []byte) bool {
	o := jsonscan.NewObject(b, 0)
	var seen uint16
	for key, at, ok := o.Next(); ok; key, at, ok = o.Next() {
		k := -1
		for i, name := range wireHandshakeKeys {
			if key == name {
				k = i
				break
			}
			if strings.EqualFold(key, name) {
				return false // encoding/json matches keys case-insensitively
			}
		}
		if k >= 0 {
			if seen&(1<<k) != 0 {
				return false
			}
			seen |= 1 << k
		}
		var end int
		var err error
		switch k {
		case 0:
			w.Headers, end, err = stringsObject(b, at)
		case 1:
			w.Time, end, err = jsonscan.String(b, at)
		case 2:
			w.Address, end, err = jsonscan.String(b, at)
		case 3:
			w.XDomain, end, err = jsonBool(b, at)
		case 4:
			w.Secure, end, err = jsonBool(b, at)
		case 5:
			if c := b[at]; c != '-' && (c < '0' || c > '9') {
				return false // null or another type: encoding/json decides
			}
			if end, err = jsonscan.Skip(b, at); err == nil {
				var f float64
				if f, err = strconv.ParseFloat(string(b[at:end]), 64); err == nil {
					w.Issued = &f
				}
			}
		case 6:
			w.URL, end, err = jsonscan.String(b, at)
		case 7:
			w.Query, end, err = stringsObject(b, at)
		case 8:
			if end, err = jsonscan.Skip(b, at); err == nil {
				w.Auth = append(json.RawMessage(nil), b[at:end]...)
			}
		default:
			end, err = jsonscan.Skip(b, at)
		}
		if err != nil {
			return false
		}
		o.Done(end)
	}
	end, err := o.End()
	return err == nil && jsonscan.WS(b, end) == len(b)
}

// jsonBool reads true or false at b[i].
func jsonBool(b []byte, i int) (bool, int, error) {
	switch {
	case bytes.HasPrefix(b[i:], []byte("true")):
		return true, i + 4, nil
	case bytes.HasPrefix(b[i:], []byte("false")):
		return false, i + 5, nil
	}
	return false, 0, jsonscan.ErrSyntax
}

// stringsObject reads an object whose values are strings or arrays of
// strings into the map encoding/json would make of it.
func stringsObject(b []byte, i int) (map[string]any, int, error) {
	o := jsonscan.NewObject(b, i)
	m := map[string]any{}
	for key, at, ok := o.Next(); ok; key, at, ok = o.Next() {
		switch b[at] {
		case '"':
			s, end, err := jsonscan.String(b, at)
			if err != nil {
				return nil, 0, err
			}
			m[key] = s
			o.Done(end)
		case '[':
			a := jsonscan.NewArray(b, at)
			vals := []any{}
			for vat, ok := a.Next(); ok; vat, ok = a.Next() {
				if b[vat] != '"' {
					return nil, 0, jsonscan.ErrSyntax
				}
				s, end, err := jsonscan.String(b, vat)
				if err != nil {
					return nil, 0, err
				}
				vals = append(vals, s)
				a.Done(end)
			}
			end, err := a.End()
			if err != nil {
				return nil, 0, err
			}
			m[key] = vals
			o.Done(end)
		default:
			return nil, 0, jsonscan.ErrSyntax
		}
	}
	end, err := o.End()
	return m, end, err
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
