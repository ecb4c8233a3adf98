package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/socketio"
)

// The HTTP control API of peers/cluster/README.md. Each route mirrors the
// Node node's (node-server.mjs): the same checks in the same order, the
// same error texts and status codes.

// httpError is an error with its status code.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// maxBody bounds a request body.
const maxBody = 16 << 20

// body is a request's JSON object: its members, parsed.
type body map[string]*jv

type route func(n *node, r *http.Request, b body) (any, error)

var routes = map[string]route{
	"GET /health":         (*node).health,
	"POST /emit":          (*node).emit,
	"POST /emit-ack":      (*node).emitAck,
	"GET /fetch":          (*node).fetch,
	"POST /sockets-join":  (*node).socketsJoin,
	"POST /sockets-leave": (*node).socketsLeave,
	"POST /disconnect":    (*node).disconnect,
	"POST /sse":           (*node).sse,
	"POST /sse-ack":       (*node).sseAck,
	"GET /received-sse":   (*node).getReceivedSSE,
	"DELETE /received-sse": func(n *node, _ *http.Request, _ body) (any, error) {
		return n.clearReceivedSSE(), nil
	},
	"GET /server-count":     (*node).serverCount,
	"GET /all-rooms":        (*node).allRooms,      // extension: Node's node has no such route
	"POST /remote-emit-ack": (*node).remoteEmitAck, // extension
}

// ServeHTTP serves the control API.
func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var res any
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		h := routes[r.Method+" "+r.URL.Path]
		if h == nil {
			return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)}
		}
		b := body{}
		if r.Method == http.MethodPost {
			if b, err = readBody(w, r); err != nil {
				return err
			}
		}
		res, err = h(n, r, b)
		return err
	}()
	status := http.StatusOK
	if err != nil {
		status = http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			status = he.status
		}
		res = errorResponse{OK: false, Error: err.Error()}
	}
	writeJSON(w, status, res)
}

type errorResponse struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

type okResponse struct {
	OK bool `json:"ok"`
}

var okResp = okResponse{OK: true}

// readBody reads a POST body: empty (or blank) is {}, otherwise it must be
// a JSON object.
func readBody(w http.ResponseWriter, r *http.Request) (body, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badRequest("body larger than %d bytes", maxBody)
		}
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return body{}, nil
	}
	v, err := parseJSON(raw)
	if err != nil {
		return nil, badRequest("body is not valid JSON")
	}
	if v.kind != 'o' {
		return nil, badRequest("body must be a JSON object")
	}
	b := make(body, len(v.keys))
	for i, k := range v.keys {
		b[k] = v.vals[i]
	}
	return b, nil
}

// writeJSON writes v as JSON.stringify would (no HTML escaping).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(errorResponse{Error: err.Error()})
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// Input checks, as node-server.mjs has them.

// nspOf returns the namespace named by v (undefined or null: "/").
func (n *node) nspOf(v *jv) (*socketio.Namespace, error) {
	name := "/"
	if v != nil && v.kind != 'n' {
		if v.kind == 's' {
			name = v.s
		}
		if nsp := n.nsps[name]; nsp != nil && v.kind == 's' {
			return nsp, nil
		}
		return nil, badRequest("unknown namespace %s (known: %s)", v.appendJSON(nil, nil), strings.Join(namespaces, ", "))
	}
	return n.nsps[name], nil
}

// nspOfQuery is nspOf for a query parameter.
func (n *node) nspOfQuery(r *http.Request) (*socketio.Namespace, error) {
	q := r.URL.Query()
	if !q.Has("nsp") {
		return n.nspOf(nil)
	}
	return n.nspOf(&jv{kind: 's', s: q.Get("nsp")})
}

// list reads a list of strings: an array (String of each element) or a
// comma-separated string; undefined, null and "" are empty.
func list(v *jv, field string) ([]string, error) {
	switch {
	case v == nil || v.kind == 'n' || (v.kind == 's' && v.s == ""):
		return nil, nil
	case v.kind == 's':
		return splitList(v.s), nil
	case v.kind != 'a':
		return nil, badRequest("%s must be an array", field)
	}
	out := make([]string, len(v.arr))
	for i, e := range v.arr {
		out[i] = jsString(e)
	}
	return out, nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// operator builds the broadcast operator of {nsp, rooms, except, flags}.
func (n *node) operator(b body, withFlags bool) (socketio.BroadcastOperator, error) {
	var op socketio.BroadcastOperator
	nsp, err := n.nspOf(b["nsp"])
	if err != nil {
		return op, err
	}
	rooms, err := list(b["rooms"], "rooms")
	if err != nil {
		return op, err
	}
	except, err := list(b["except"], "except")
	if err != nil {
		return op, err
	}
	op = nsp.To(rooms...).Except(except...)
	if f := b["flags"]; withFlags && truthy(f) {
		if truthy(f.get("volatile")) {
			op = op.Volatile()
		}
		if truthy(f.get("local")) {
			op = op.Local()
		}
		if c := f.get("compress"); c != nil && c.kind == 'b' {
			op = op.Compress(c.b)
		}
	}
	return op, nil
}

// requireEvent returns the event name and the arguments ($bin decoded).
func requireEvent(b body) (string, []any, error) {
	ev := b["event"]
	if ev == nil || ev.kind != 's' || ev.s == "" {
		return "", nil, badRequest("event (string) is required")
	}
	a := b["args"]
	if a == nil {
		return ev.s, nil, nil
	}
	if a.kind != 'a' {
		return "", nil, badRequest("args must be an array")
	}
	return ev.s, toArgs(a.arr), nil
}

// timeoutOf returns timeoutMs (dflt when undefined) in milliseconds.
func timeoutOf(b body, dflt float64) (float64, error) {
	t := dflt
	if v := b["timeoutMs"]; v != nil {
		t = jsNumber(v)
	}
	if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return 0, badRequest("timeoutMs must be a positive number")
	}
	return t, nil
}

func ms(t float64) time.Duration { return time.Duration(t * float64(time.Millisecond)) }

// outerMargin is how much longer than timeoutMs an ack waits before the
// node answers "no answer within N ms" (the Node node's margin).
const outerMargin = 250 * time.Millisecond

// reservedError is socket.io's error for a reserved event name.
func reservedError(event string) error { return badRequest("%q is a reserved event name", event) }

// nspReserved are the names Node's Namespace#serverSideEmit rejects.
func nspReserved(event string) bool {
	return event == "connect" || event == "connection" || event == "new_namespace"
}

// Routes.

func (n *node) health(*http.Request, body) (any, error) {
	return struct {
		Name        string `json:"name"`
		Adapter     string `json:"adapter"`
		Impl        string `json:"impl"`
		Port        int    `json:"port"`
		ControlPort int    `json:"controlPort"`
		CSR         bool   `json:"csr"`
		PID         int    `json:"pid"`
	}{n.cfg.name, n.cfg.adapter, "go", n.cfg.port, n.cfg.controlPort, n.cfg.csr(), os.Getpid()}, nil
}

// emit: nsp.To(rooms).Except(except)[.Volatile][.Local][.Compress].Emit.
func (n *node) emit(_ *http.Request, b body) (any, error) {
	event, args, err := requireEvent(b)
	if err != nil {
		return nil, err
	}
	op, err := n.operator(b, true)
	if err != nil {
		return nil, err
	}
	if err := op.Emit(event, args...); err != nil {
		if errors.Is(err, socketio.ErrReservedEvent) {
			return nil, reservedError(event)
		}
		return nil, err
	}
	return okResp, nil
}

type ackResponse struct {
	OK        bool            `json:"ok"`
	Error     string          `json:"error,omitempty"`
	Responses json.RawMessage `json:"responses"`
}

// emitAck: ….Timeout(timeoutMs).EmitWithAck, the first ack argument of
// each client. socket.io reports a client that disconnected before
// answering only when the timeout passes ("operation has timed out", the
// other responses): gosio reports it as soon as the others answered, so
// the node waits for the timeout to answer as Node does.
func (n *node) emitAck(r *http.Request, b body) (any, error) {
	event, args, err := requireEvent(b)
	if err != nil {
		return nil, err
	}
	timeoutMs, err := timeoutOf(b, 5000)
	if err != nil {
		return nil, err
	}
	op, err := n.operator(b, true)
	if err != nil {
		return nil, err
	}
	if parser.IsReserved(event) { // BroadcastOperator.EmitWithAck does not check
		return nil, reservedError(event)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), ms(timeoutMs)+outerMargin)
	defer cancel()
	res, err := op.Timeout(ms(timeoutMs)).EmitWithAck(ctx, event, args...)
	var de *socketio.DisconnectError
	switch {
	case err == nil:
		return ackResponse{OK: true, Responses: fromValues(res)}, nil
	case errors.Is(err, socketio.ErrReservedEvent):
		return nil, reservedError(event)
	case ctx.Err() != nil:
		return ackResponse{Error: "no answer within " + jsNumberString(timeoutMs) + " ms", Responses: fromValues(nil)}, nil
	case errors.As(err, &de):
		t := time.NewTimer(time.Until(start.Add(ms(timeoutMs))))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		fallthrough
	case errors.Is(err, socketio.ErrAckTimeout):
		return ackResponse{Error: "operation has timed out", Responses: fromValues(res)}, nil
	}
	return ackResponse{Error: err.Error(), Responses: fromValues(res)}, nil
}

// remoteEmitAck (extension of the contract): fetchSockets of the socket
// {sid}, then socket.timeout(timeoutMs).emitWithAck(event, ...args) on
// it: a remote socket answers with its single first argument (Node's
// expectSingleResponse). The response lists the ack's arguments.
func (n *node) remoteEmitAck(r *http.Request, b body) (any, error) {
	event, args, err := requireEvent(b)
	if err != nil {
		return nil, err
	}
	sid := b["sid"]
	if sid == nil || sid.kind != 's' {
		return nil, badRequest("sid (string) is required")
	}
	timeoutMs, err := timeoutOf(b, 5000)
	if err != nil {
		return nil, err
	}
	nsp, err := n.nspOf(b["nsp"])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), ms(timeoutMs))
	defer cancel()
	socks, err := nsp.In(sid.s).FetchSockets(ctx)
	if err != nil {
		return nil, err
	}
	if len(socks) != 1 {
		return nil, fmt.Errorf("fetchSockets found %d sockets with id %s", len(socks), sid.s)
	}
	res, err := socks[0].EmitWithAck(ctx, event, args...)
	if err != nil {
		return ackResponse{Error: err.Error(), Responses: fromValues(res)}, nil
	}
	return ackResponse{OK: true, Responses: fromValues(res)}, nil
}

type socketView struct {
	ID        string          `json:"id"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
	Handshake handshakeView   `json:"handshake"`
}

type handshakeView struct {
	Auth  json.RawMessage `json:"auth"`
	Query json.RawMessage `json:"query"`
}

// fetch: nsp[.Local].In(rooms).Except(except)[.Timeout].FetchSockets,
// sorted by id. timeoutMs sets the operator's timeout and bounds ctx.
func (n *node) fetch(r *http.Request, _ body) (any, error) {
	nsp, err := n.nspOfQuery(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	op := nsp.To()
	if l := q.Get("local"); l == "1" || l == "true" {
		op = op.Local()
	}
	op = op.In(splitList(q.Get("rooms"))...).Except(splitList(q.Get("except"))...)
	ctx := r.Context()
	if s := q.Get("timeoutMs"); s != "" {
		if t := jsNumberOfString(s); t > 0 && !math.IsInf(t, 0) {
			op = op.Timeout(ms(t))
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ms(t))
			defer cancel()
		}
	}
	sockets, err := op.FetchSockets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]socketView, 0, len(sockets))
	for _, s := range sockets {
		v := socketView{ID: s.ID, Rooms: jsSorted(s.Rooms), Data: fromAny(s.Data)}
		v.Handshake.Auth, v.Handshake.Query = json.RawMessage("null"), json.RawMessage("{}")
		if s.Handshake != nil {
			if hs, err := s.Handshake.MarshalJSON(); err == nil {
				var h handshakeView
				if json.Unmarshal(hs, &h) == nil {
					v.Handshake = h
				}
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b socketView) int { return jsCompare(a.ID, b.ID) })
	return out, nil
}

func (n *node) socketsJoin(_ *http.Request, b body) (any, error) {
	op, err := n.operator(b, false)
	if err != nil {
		return nil, err
	}
	rooms, err := list(b["join"], "join")
	if err != nil {
		return nil, err
	}
	if err := op.SocketsJoin(rooms...); err != nil {
		return nil, err
	}
	return okResp, nil
}

func (n *node) socketsLeave(_ *http.Request, b body) (any, error) {
	op, err := n.operator(b, false)
	if err != nil {
		return nil, err
	}
	rooms, err := list(b["leave"], "leave")
	if err != nil {
		return nil, err
	}
	if err := op.SocketsLeave(rooms...); err != nil {
		return nil, err
	}
	return okResp, nil
}

func (n *node) disconnect(_ *http.Request, b body) (any, error) {
	op, err := n.operator(b, false)
	if err != nil {
		return nil, err
	}
	if err := op.DisconnectSockets(truthy(b["close"])); err != nil {
		return nil, err
	}
	return okResp, nil
}

// sse: nsp.ServerSideEmit. gosio also rejects its own reserved names.
func (n *node) sse(_ *http.Request, b body) (any, error) {
	event, args, err := requireEvent(b)
	if err != nil {
		return nil, err
	}
	nsp, err := n.nspOf(b["nsp"])
	if err != nil {
		return nil, err
	}
	if nspReserved(event) {
		return nil, reservedError(event)
	}
	if err := nsp.ServerSideEmit(event, args...); err != nil {
		if errors.Is(err, socketio.ErrReservedEvent) {
			return nil, badRequest("%s", err.Error())
		}
		return nil, err
	}
	return okResp, nil
}

// sseAck: nsp.ServerSideEmitWithAck, bounded by timeoutMs (the adapter's
// own timeout is its request timeout, 5 s by default).
func (n *node) sseAck(r *http.Request, b body) (any, error) {
	event, args, err := requireEvent(b)
	if err != nil {
		return nil, err
	}
	timeoutMs, err := timeoutOf(b, 5000)
	if err != nil {
		return nil, err
	}
	nsp, err := n.nspOf(b["nsp"])
	if err != nil {
		return nil, err
	}
	if nspReserved(event) {
		return nil, reservedError(event)
	}
	ctx, cancel := context.WithTimeout(r.Context(), ms(timeoutMs)+outerMargin)
	defer cancel()
	res, err := nsp.ServerSideEmitWithAck(ctx, event, args...)
	var te *adapter.TimeoutError
	switch {
	case err == nil:
		return ackResponse{OK: true, Responses: fromValues(res)}, nil
	case errors.Is(err, socketio.ErrReservedEvent):
		return nil, badRequest("%s", err.Error())
	case ctx.Err() != nil: // the outer bound came first
		return ackResponse{Error: "no answer within " + jsNumberString(timeoutMs) + " ms", Responses: fromValues(nil)}, nil
	case strings.HasPrefix(err.Error(), "timeout reached"):
		if len(res) == 0 && errors.As(err, &te) {
			res = te.Responses
		}
		return ackResponse{Error: err.Error(), Responses: fromValues(res)}, nil
	}
	if len(res) == 0 && errors.As(err, &te) {
		res = te.Responses
	}
	return ackResponse{Error: err.Error(), Responses: fromValues(res)}, nil
}

func (n *node) getReceivedSSE(*http.Request, body) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]sseRecord{}, n.receivedSSE...), nil
}

func (n *node) clearReceivedSSE() any {
	n.mu.Lock()
	cleared := len(n.receivedSSE)
	n.receivedSSE = nil
	n.mu.Unlock()
	return struct {
		OK      bool `json:"ok"`
		Cleared int  `json:"cleared"`
	}{true, cleared}
}

// allRooms (extension of the contract): adapter.allRooms() of the
// namespace, sorted; the classic adapter asks every node, Node ones too.
func (n *node) allRooms(r *http.Request, _ body) (any, error) {
	nsp, err := n.nspOfQuery(r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	rooms, err := nsp.AllRooms(ctx)
	if err != nil {
		return nil, err
	}
	return struct {
		Rooms []string `json:"rooms"`
	}{jsSorted(rooms)}, nil
}

func (n *node) serverCount(r *http.Request, _ body) (any, error) {
	nsp, err := n.nspOfQuery(r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	count, err := nsp.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	return struct {
		Count int `json:"count"`
	}{count}, nil
}
