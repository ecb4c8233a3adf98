package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gosio/gosio/helper"
)

// control is the HTTP control API of the node.
type control struct {
	h    *helper.ServerHelper
	quit func() // ends run, which then shuts the node down
}

// sendBody is POST /send: the TypeScript peer's {destination?, topic, data}.
type sendBody struct {
	Destination string          `json:"destination"`
	Topic       string          `json:"topic"`
	Data        json.RawMessage `json:"data"`
}

// clientView is one entry of GET /clients.
type clientView struct {
	ID        string   `json:"id"`
	State     string   `json:"state"`
	Rooms     []string `json:"rooms"`
	Connected bool     `json:"connected"`
}

func (c *control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/send":
		var b sendBody
		if !decode(w, r, &b) {
			return
		}
		var data any
		if len(b.Data) > 0 {
			data = b.Data // sent as the JSON it is; null stays nil
			if string(b.Data) == "null" {
				data = nil
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := c.h.Send(ctx, b.Destination, b.Topic, data); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
			return
		}
		reply(w, http.StatusOK, map[string]any{"ok": true})
	case r.Method == http.MethodGet && r.URL.Path == "/clients":
		cs := c.h.Clients()
		out := struct {
			Clients []clientView `json:"clients"`
			Sockets []string     `json:"sockets"`
		}{Clients: make([]clientView, 0, len(cs)), Sockets: []string{}}
		for _, ci := range cs {
			out.Clients = append(out.Clients, clientView{ID: ci.ID, State: string(ci.State), Rooms: ci.Rooms, Connected: ci.Socket.Connected()})
		}
		for _, s := range c.h.IO().Sockets().LocalSockets() {
			out.Sockets = append(out.Sockets, s.ID())
		}
		slices.Sort(out.Sockets)
		reply(w, http.StatusOK, out)
	case r.Method == http.MethodPost && r.URL.Path == "/disconnect":
		var b struct {
			ID string `json:"id"`
		}
		if !decode(w, r, &b) {
			return
		}
		if !c.h.Disconnect(b.ID) {
			reply(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown socket id"})
			return
		}
		reply(w, http.StatusOK, map[string]any{"ok": true})
	case r.Method == http.MethodPost && r.URL.Path == "/shutdown":
		before := len(c.h.Clients())
		t := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		err := c.h.Shutdown(ctx)
		cancel()
		res := map[string]any{"ok": err == nil, "ms": time.Since(t).Milliseconds(), "clientsBefore": before, "clientsAfter": len(c.h.Clients())}
		if err != nil {
			res["error"] = err.Error()
		}
		reply(w, http.StatusOK, res)
		c.quit()
	default:
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error": "not found"})
	}
}

// decode reads the JSON body into v, answering 400 when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil && len(b) > 0 {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		code := http.StatusBadRequest
		if errors.As(err, &mbe) {
			code = http.StatusRequestEntityTooLarge
		}
		reply(w, code, map[string]any{"ok": false, "error": err.Error()})
		return false
	}
	return true
}

func reply(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
