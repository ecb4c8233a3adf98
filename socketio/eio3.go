package socketio

// Socket.IO protocol v4, spoken with socket.io 2.x clients on Engine.IO v3
// sessions (engineio.Options.AllowEIO3). What differs from v5:
//
//   - the main namespace is joined without a CONNECT from the client: the
//     server connects it as the session opens and sends CONNECT "0";
//   - a CONNECT carries no payload; its namespace may end with a query
//     ("/chat?token=abc"), which becomes the handshake's Auth, as an
//     object of strings;
//   - the CONNECT reply has no payload (no sid), and a socket's id is the
//     Engine.IO session id, prefixed with "<namespace>#" outside the main
//     namespace, as the client computes it;
//   - a middleware's refusal is a CONNECT_ERROR whose payload is a plain
//     JSON value: the ConnectError's Data, or else the message as a string.

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// splitNamespaceV3 splits the namespace of a v4-protocol CONNECT into its
// name and its query, returned as a JSON object (nil without a query). A
// key given more than once maps to an array of its values, as Node's
// querystring parses it.
func splitNamespaceV3(nsp string) (string, json.RawMessage) {
	name, query, ok := strings.Cut(nsp, "?")
	if !ok {
		return nsp, nil
	}
	values, _ := url.ParseQuery(query)
	obj := make(map[string]any, len(values))
	for k, v := range values {
		if len(v) == 1 {
			obj[k] = v[0]
		} else {
			obj[k] = v
		}
	}
	auth, err := json.Marshal(obj)
	if err != nil {
		return name, nil
	}
	return name, auth
}

// socketIDV3 is the id of a socket of a v4-protocol client, as the client
// computes it.
func socketIDV3(nsp, engineID string) string {
	if nsp == "/" {
		return engineID
	}
	return nsp + "#" + engineID
}

// connectErrorPayloadV3 encodes the CONNECT_ERROR payload for err for a
// v4-protocol client: the ConnectError's Data when it has some, else the
// message as a JSON string.
func connectErrorPayloadV3(err error) json.RawMessage {
	var v any = err.Error()
	var ce *ConnectError
	if errors.As(err, &ce) {
		v = ce.Message
		if ce.Data != nil {
			v = ce.Data
		}
	}
	b, mErr := json.Marshal(v)
	if mErr != nil {
		b, _ = json.Marshal(err.Error())
	}
	return b
}
