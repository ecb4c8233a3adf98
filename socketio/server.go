package socketio

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sync"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/workers"
)

// A Server is a Socket.IO v5 server: an http.Handler (default path
// /socket.io/) holding namespaces, each with its sockets, rooms and
// adapter. The main namespace "/" always exists; Server's Use,
// OnConnection, Emit and broadcast operators are shims over it.
//
// Stop it with Shutdown: it disconnects every socket with "server shutting
// down", closes the Engine.IO sessions and waits for handlers to return.
type Server struct {
	opts *Options
	eio  *engineio.Server

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	parents  []*ParentNamespace
	conns    map[*conn]struct{}
	closing  bool
	workers  workers.Pool // run the conns' task queues
	mainNsp  *Namespace
	onNewNsp []func(*Namespace)
	shutOnce sync.Once
	bundle   *bundle // nil without Options.ClientFiles
}

// NewServer returns a Server configured by opts; nil selects every default.
func NewServer(opts *Options) *Server {
	o := opts.withDefaults()
	srv := &Server{
		opts:  o,
		eio:   engineio.NewServer(&o.Engine),
		nsps:  make(map[string]*Namespace),
		conns: make(map[*conn]struct{}),
	}
	if o.ClientFiles != nil {
		srv.bundle = newBundle(o.ClientFiles, srv.eio.Options().Path)
	}
	srv.mainNsp = srv.Of("/")
	srv.eio.OnConnection(srv.onSession)
	return srv
}

// ServeHTTP implements http.Handler.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.bundle != nil && srv.bundle.serve(w, r) {
		return
	}
	srv.eio.ServeHTTP(w, r)
}

// Engine returns the Engine.IO server underneath.
func (srv *Server) Engine() *engineio.Server { return srv.eio }

// Of returns the namespace with the given name, creating it if needed. A
// name without a leading slash gets one. A new name that a parent
// namespace made by OfRegexp matches becomes that parent's child, as in
// Node (the first such parent; OfFunc parents, which look at the auth
// payload too, are not asked). An adapter that fails to start is logged;
// OfContext returns its error.
func (srv *Server) Of(name string) *Namespace {
	n, _ := srv.OfContext(context.Background(), name)
	return n
}

// OfContext is Of, with the adapter's Init bounded by ctx (and by
// Options.AdapterInitTimeout) when the namespace is created. It returns
// the namespace and the error its adapter's Init returned, then or when
// the namespace was created earlier: a cluster adapter that could not
// subscribe its channels leaves the namespace serving local sockets only.
func (srv *Server) OfContext(ctx context.Context, name string) (*Namespace, error) {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	srv.mu.Lock()
	if n := srv.nsps[name]; n != nil {
		srv.mu.Unlock()
		return n, n.initErr
	}
	for _, p := range srv.parents {
		if p.re != nil && p.re.MatchString(name) {
			srv.mu.Unlock()
			n := p.child(name)
			<-n.ready
			return n, n.initErr
		}
	}
	n := newNamespace(ctx, srv, name, nil)
	srv.nsps[name] = n
	hooks := srv.onNewNsp
	srv.mu.Unlock()
	n.announce(hooks)
	return n, n.initErr
}

// OnNewNamespace adds a hook called with each namespace created from now
// on: by Of or OfContext, or as the child of a parent namespace when a
// client connects to it (Node's io.on("new_namespace", fn)). The main
// namespace exists before any hook can be added. The hooks run in the
// call that created the namespace, before it returns, and before any
// socket connects to the namespace, so a hook can add the namespace's
// middlewares and connection handlers; a child's copies of its parent's
// come first. A hook must not wait for a socket to connect to the
// namespace it is given.
func (srv *Server) OnNewNamespace(fn func(*Namespace)) {
	srv.mu.Lock()
	srv.onNewNsp = append(srv.onNewNsp, fn)
	srv.mu.Unlock()
}

// OfFunc returns a parent namespace: a client connecting to a namespace
// that does not exist, whose name (and auth payload) match reports true
// for, gets a child namespace created under that name, which copies the
// parent's middlewares and connection handlers.
func (srv *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	return srv.addParent(&ParentNamespace{srv: srv, match: match, children: make(map[string]*Namespace)})
}

// addParent registers a parent namespace.
func (srv *Server) addParent(p *ParentNamespace) *ParentNamespace {
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OfRegexp returns a parent namespace matching names with re; see OfFunc.
// Of with a new name it matches creates a child of it too.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	match := func(name string, _ json.RawMessage) bool { return re.MatchString(name) }
	return srv.addParent(&ParentNamespace{srv: srv, match: match, re: re, children: make(map[string]*Namespace)})
}

// lookupNamespace returns the namespace a CONNECT for name reaches, creating
// a child of a matching parent namespace, or nil.
func (srv *Server) lookupNamespace(name string, auth json.RawMessage) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if n != nil {
		<-n.ready // the OnNewNamespace hooks have returned
		return n
	}
	for _, p := range parents {
		if p.match(name, auth) {
			n := p.child(name)
			<-n.ready
			return n
		}
	}
	return nil
}

// removeNamespace forgets an empty child namespace.
func (srv *Server) removeNamespace(n *Namespace) {
	srv.mu.Lock()
	if srv.nsps[n.name] == n {
		delete(srv.nsps, n.name)
	}
	srv.mu.Unlock()
}

// Sockets returns the main namespace; a shim for Of("/").
func (srv *Server) Sockets() *Namespace { return srv.mainNsp }

// Use adds a connection middleware to the main namespace.
func (srv *Server) Use(mw Middleware) { srv.mainNsp.Use(mw) }

// OnConnection adds a connection handler to the main namespace.
func (srv *Server) OnConnection(fn func(*Socket)) { srv.mainNsp.OnConnection(fn) }

// Emit emits an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.mainNsp.Emit(event, args...) }

// To selects rooms of the main namespace for a broadcast.
func (srv *Server) To(rooms ...string) BroadcastOperator { return srv.mainNsp.To(rooms...) }

// In is the same as To.
func (srv *Server) In(rooms ...string) BroadcastOperator { return srv.mainNsp.To(rooms...) }

// Except excludes rooms of the main namespace from a broadcast.
func (srv *Server) Except(rooms ...string) BroadcastOperator { return srv.mainNsp.Except(rooms...) }

// Local restricts a broadcast of the main namespace to this server.
func (srv *Server) Local() BroadcastOperator { return srv.mainNsp.Local() }

// Volatile marks a broadcast of the main namespace as volatile.
func (srv *Server) Volatile() BroadcastOperator { return srv.mainNsp.Volatile() }

// onSession adopts a new Engine.IO session.
func (srv *Server) onSession(s *engineio.Session) {
	c := newConn(srv, s)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		s.Close()
		return
	}
	srv.conns[c] = struct{}{}
	srv.mu.Unlock()
	c.start()
}

func (srv *Server) forgetConn(c *conn) {
	srv.mu.Lock()
	delete(srv.conns, c)
	srv.mu.Unlock()
}

// Shutdown disconnects every socket with ReasonServerShuttingDown, closes
// every Engine.IO session and adapter, and waits for running handlers to
// return, or for ctx to be done, when it returns ctx.Err(). It is
// idempotent.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.shutOnce.Do(func() {
		srv.mu.Lock()
		srv.closing = true
		conns := make([]*conn, 0, len(srv.conns))
		for c := range srv.conns {
			conns = append(conns, c)
		}
		srv.mu.Unlock()
		for _, c := range conns {
			c.closeSockets(ReasonServerShuttingDown)
		}
		srv.workers.Close()
	})
	err := srv.eio.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		srv.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		nsps = append(nsps, n)
	}
	srv.mu.RUnlock()
	for _, n := range nsps {
		_ = n.adapter.Close()
	}
	return err
}
