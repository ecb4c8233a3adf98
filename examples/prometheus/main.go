// Command prometheus is a gosio server whose Stats are exposed as
// Prometheus metrics at /metrics, with the Prometheus Go client. It is a
// module of its own, so that the library module does not require the
// client: the library only offers Server.Stats (and StatsVar for expvar).
//
//	go run . -addr :3000
//	curl localhost:3000/metrics | grep socketio_
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gosio/gosio/socketio"
)

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	flag.Parse()

	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
	})
	hs := &http.Server{Addr: *addr, Handler: newMux(srv), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = hs.Shutdown(sctx)
	}()
	log.Printf("metrics at http://localhost%s/metrics", *addr)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// newMux serves Socket.IO and, at /metrics, the server's Stats with the
// Go runtime's metrics.
func newMux(srv *socketio.Server) *http.ServeMux {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(srv), collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// A collector turns one Stats snapshot per scrape into metrics: counters
// stay monotonic because Stats counts from the server's start.
type collector struct {
	srv *socketio.Server

	sessions, opened, connErrors          *prometheus.Desc
	messages, bytes, dropped, slow, queue *prometheus.Desc
	sockets, rooms                        *prometheus.Desc
}

func newCollector(srv *socketio.Server) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("socketio_"+name, help, labels, nil)
	}
	return &collector{
		srv:        srv,
		sessions:   d("engine_sessions", "Open Engine.IO sessions.", "transport"),
		opened:     d("engine_sessions_opened_total", "Engine.IO sessions opened."),
		connErrors: d("engine_connection_errors_total", "Requests refused with an Engine.IO error code."),
		messages:   d("engine_messages_total", "Engine.IO messages received (in) and queued (out).", "direction"),
		bytes:      d("engine_message_bytes_total", "Bytes of the Engine.IO messages.", "direction"),
		dropped:    d("engine_volatile_dropped_total", "Volatile messages dropped."),
		slow:       d("engine_slow_clients_total", "Sessions closed as slow clients."),
		queue:      d("engine_send_queue_bytes", "Bytes waiting in send queues."),
		sockets:    d("namespace_sockets", "Sockets connected to this server.", "namespace"),
		rooms:      d("namespace_rooms", "Rooms of this server's sockets.", "namespace"),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.opened, c.connErrors, c.messages, c.bytes, c.dropped, c.slow, c.queue, c.sockets, c.rooms} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	e := st.Engine
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.sessions, e.Polling, "polling")
	gauge(c.sessions, e.WebSocket, "websocket")
	counter(c.opened, e.SessionsOpened)
	counter(c.connErrors, e.ConnectionErrors)
	counter(c.messages, e.MessagesIn, "in")
	counter(c.messages, e.MessagesOut, "out")
	counter(c.bytes, e.BytesIn, "in")
	counter(c.bytes, e.BytesOut, "out")
	counter(c.dropped, e.VolatileDropped)
	counter(c.slow, e.SlowClients)
	gauge(c.queue, e.SendQueueBytes)
	for _, n := range st.Namespaces {
		gauge(c.sockets, n.Sockets, n.Name)
		gauge(c.rooms, n.Rooms, n.Name)
	}
}
