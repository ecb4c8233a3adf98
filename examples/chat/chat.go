package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/socketio"
)

// The chat's own events, next to the helper's (authenticate, authenticated,
// unauthenticated, ping, join, leave).
const (
	// EventWelcome (server → client) follows the helper's authenticated
	// event: {user, server, channels}.
	EventWelcome = "chat:welcome"
	// EventJoined (server → client) answers each allowed room of a join:
	// {room, history}.
	EventJoined = "chat:joined"
	// EventDenied (server → client) answers each refused room of a join:
	// {room, reason}. The helper itself answers nothing.
	EventDenied = "chat:denied"
	// EventLeft (server → client) answers each room a leave left: {room}.
	EventLeft = "chat:left"
	// EventMessage: client → server {room, text}; server → room, through
	// the helper's Send (the Redis emitter on a cluster): a Message.
	EventMessage = "chat:message"
	// EventTyping: client → server {room, typing}; server → the room but
	// the sender: {room, user, typing}.
	EventTyping = "chat:typing"
	// EventPresence (server → room) lists the users in a room: {room,
	// users, version}. Browsers keep the list of the highest version.
	EventPresence = "chat:presence"
	// EventError (server → client) reports a refused message: {message}.
	EventError = "chat:error"
)

// DefaultChannels are the rooms the chat lets its users join.
var DefaultChannels = []string{"general", "random", "golang"}

// maxText bounds a message, in characters.
const maxText = 500

// userName is what Authenticate accepts as a user name.
var userName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,24}$`)

// chatOptions configures newChat.
type chatOptions struct {
	Name     string         // this server's name, shown on the page
	Channels []string       // the rooms users may join
	History  int            // messages kept per room
	Redis    rueidis.Client // nil: in memory, one process
	Logger   *slog.Logger
}

// chat is the chat server: a helper.ServerHelper with the chat's events.
type chat struct {
	h        *helper.ServerHelper
	store    store
	name     string
	channels []string
	log      *slog.Logger

	ctx    context.Context // ends at Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // presence updates in flight
}

// newChat starts a chat server. Mount it on "/socket.io/".
func newChat(ctx context.Context, o chatOptions) (*chat, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Channels) == 0 {
		o.Channels = DefaultChannels
	}
	if o.History <= 0 {
		o.History = 50
	}
	c := &chat{name: o.Name, channels: o.Channels, log: o.Logger}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if o.Redis != nil {
		c.store = &redisStore{rc: o.Redis, size: o.History, prefix: "gosio-chat:"}
	} else {
		c.store = newMemStore(o.History)
	}
	h, err := helper.NewServer(ctx, &helper.ServerOptions{
		Identifier:      "chat-" + o.Name,
		Redis:           o.Redis,
		Authenticate:    authenticate,
		ValidateRooms:   c.validateRooms,
		ClientConnected: c.clientConnected,
		Logger:          o.Logger,
	})
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.h = h
	// Registered after the helper's own connection handler, so the chat's
	// join and leave handlers run after the helper's: they see the rooms
	// the helper joined or left.
	h.IO().OnConnection(c.onConnection)
	return c, nil
}

// Handler returns the Socket.IO handler.
func (c *chat) Handler() *helper.ServerHelper { return c.h }

// Shutdown stops the helper (every client is disconnected) and waits for
// the presence updates in flight.
func (c *chat) Shutdown(ctx context.Context) error {
	err := c.h.Shutdown(ctx)
	c.cancel()
	c.wg.Wait()
	return err
}

// authPayload is the CONNECT auth payload the page sends.
type authPayload struct {
	User string `json:"user"`
}

// userOf returns the user name of a handshake's auth payload.
func userOf(hs *socketio.Handshake) (string, bool) {
	var a authPayload
	if err := json.Unmarshal(hs.Auth, &a); err != nil {
		return "", false
	}
	return a.User, userName.MatchString(a.User)
}

// authenticate is the helper's Authenticate: it accepts any well-formed
// user name, which is what a demo can do.
//
// A real application checks a credential instead: the page sends a token
// it got at login (auth: {token} in the CONNECT payload, or an
// "Authorization: Bearer ..." header from a non-browser client), and
// authenticate verifies it, for example a JWT's signature against the
// identity provider's keys, its expiry and audience, or a session token
// looked up in the session store, with ctx bounding the look-up. It returns
// false for a bad or expired token (the client gets the helper's
// "Invalid token" unauthenticated event) and an error when it could not
// decide, such as the session store being down (MessageAuthenticateFailed).
// The user name then comes from the verified token, never from the client.
func authenticate(_ context.Context, hs *socketio.Handshake) (bool, error) {
	_, ok := userOf(hs)
	return ok, nil
}

// validateRooms is the helper's ValidateRooms: the chat's channels are
// allowed, every other room is refused.
func (c *chat) validateRooms(_ context.Context, _ *socketio.Socket, rooms []string) ([]string, error) {
	var ok []string
	for _, r := range rooms {
		if slices.Contains(c.channels, r) {
			ok = append(ok, r)
		}
	}
	return ok, nil
}

type welcomePayload struct {
	User     string   `json:"user"`
	Server   string   `json:"server"`
	Channels []string `json:"channels"`
}

// clientConnected is the helper's ClientConnected: it tells the page who
// it is and which channels there are.
func (c *chat) clientConnected(_ context.Context, s *socketio.Socket) error {
	user, _ := userOf(s.Handshake())
	return s.Emit(EventWelcome, welcomePayload{User: user, Server: c.name, Channels: c.channels})
}

type roomsPayload struct {
	Rooms []string `json:"rooms"`
}

type joinedPayload struct {
	Room    string    `json:"room"`
	History []Message `json:"history"`
}

type deniedPayload struct {
	Room   string `json:"room"`
	Reason string `json:"reason"`
}

type roomPayload struct {
	Room string `json:"room"`
}

type messageIn struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

type typingPayload struct {
	Room   string `json:"room"`
	User   string `json:"user,omitempty"`
	Typing bool   `json:"typing"`
}

type presencePayload struct {
	Room    string   `json:"room"`
	Users   []string `json:"users"`
	Version int64    `json:"version"`
}

type errorPayload struct {
	Message string `json:"message"`
}

// onConnection registers the chat's handlers on a new socket. Its user
// name goes in the socket's Data, which FetchSockets reports from every
// server of the cluster for the presence lists.
func (c *chat) onConnection(s *socketio.Socket) {
	if user, ok := userOf(s.Handshake()); ok {
		s.SetData(user)
	}
	s.On(helper.EventJoin, func(p roomsPayload) { c.afterJoin(s, p.Rooms) })
	s.On(helper.EventLeave, func(p roomsPayload) { c.afterLeave(s, p.Rooms) })
	s.On(EventMessage, func(m messageIn) { c.onMessage(s, m) })
	s.On(EventTyping, func(t typingPayload) { c.onTyping(s, t) })
	var rooms []string
	s.OnDisconnecting(func(string) { rooms = c.channelsOf(s) })
	// The socket has left its rooms when OnDisconnect runs, so the
	// presence lists computed from here on no longer have it.
	s.OnDisconnect(func(string) {
		for _, r := range rooms {
			c.updatePresence(r)
		}
	})
}

// channelsOf returns the chat channels s is in.
func (c *chat) channelsOf(s *socketio.Socket) []string {
	var out []string
	for _, r := range s.Rooms() {
		if slices.Contains(c.channels, r) {
			out = append(out, r)
		}
	}
	return out
}

func (c *chat) authenticated(s *socketio.Socket) bool {
	ci, ok := c.h.Client(s.ID())
	return ok && ci.State == helper.StateAuthenticated
}

// afterJoin runs after the helper served a join: each requested room is
// either joined now (the page gets its history and everyone in it the new
// presence list) or was refused.
func (c *chat) afterJoin(s *socketio.Socket, rooms []string) {
	if !c.authenticated(s) {
		for _, r := range rooms {
			_ = s.Emit(EventDenied, deniedPayload{Room: r, Reason: "not authenticated"})
		}
		return
	}
	in := s.Rooms()
	for i, r := range rooms {
		if slices.Contains(rooms[:i], r) {
			continue // asked twice in one request: answered once
		}
		if !slices.Contains(c.channels, r) || !slices.Contains(in, r) {
			_ = s.Emit(EventDenied, deniedPayload{Room: r, Reason: "no such channel"})
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		history, err := c.store.History(ctx, r)
		cancel()
		if err != nil {
			c.log.Warn("chat: history", "room", r, "err", err)
		}
		if history == nil {
			history = []Message{}
		}
		_ = s.Emit(EventJoined, joinedPayload{Room: r, History: history})
		c.updatePresence(r)
	}
}

// afterLeave runs after the helper served a leave.
func (c *chat) afterLeave(s *socketio.Socket, rooms []string) {
	in := s.Rooms()
	for _, r := range rooms {
		if slices.Contains(c.channels, r) && !slices.Contains(in, r) {
			_ = s.Emit(EventLeft, roomPayload{Room: r})
			c.updatePresence(r)
		}
	}
}

// onMessage records a message in its room's history and sends it to the
// room on every server, through the helper's Send.
func (c *chat) onMessage(s *socketio.Socket, in messageIn) {
	fail := func(msg string) { _ = s.Emit(EventError, errorPayload{Message: msg}) }
	if !slices.Contains(c.channelsOf(s), in.Room) {
		fail("join " + in.Room + " first")
		return
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		fail("empty message")
		return
	case utf8.RuneCountInString(text) > maxText:
		fail("message too long")
		return
	}
	user, _ := s.Data().(string)
	m := Message{
		ID:     newID(),
		Room:   in.Room,
		User:   user,
		Text:   text,
		Time:   time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Server: c.name,
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if err := c.store.Append(ctx, m); err != nil {
		c.log.Warn("chat: history", "room", m.Room, "err", err)
	}
	if err := c.h.Send(ctx, m.Room, EventMessage, m); err != nil {
		c.log.Warn("chat: send", "room", m.Room, "err", err)
		fail("not sent, try again")
	}
}

// onTyping relays a typing indicator to the other sockets of the room, on
// every server (through the adapter), volatile: a lost one does not matter.
func (c *chat) onTyping(s *socketio.Socket, t typingPayload) {
	if !slices.Contains(c.channelsOf(s), t.Room) {
		return
	}
	user, _ := s.Data().(string)
	_ = s.To(t.Room).Volatile().Emit(EventTyping, typingPayload{Room: t.Room, User: user, Typing: t.Typing})
}

// updatePresence sends the room's user list to the room, in the
// background. The lists of concurrent updates on several servers may
// arrive in any order, so each carries a version from the shared store,
// taken after the change and before the look-up: the list of the highest
// version was fetched after every change that took a lower one, and the
// page keeps only that.
func (c *chat) updatePresence(room string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		defer cancel()
		if err := c.presence(ctx, room); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, helper.ErrClosed) {
			c.log.Warn("chat: presence", "room", room, "err", err)
		}
	}()
}

func (c *chat) presence(ctx context.Context, room string) error {
	v, err := c.store.Next(ctx, room)
	if err != nil {
		return err
	}
	socks, err := c.h.IO().In(room).FetchSockets(ctx)
	if err != nil {
		return err
	}
	users := []string{}
	for _, rs := range socks {
		if u, ok := rs.Data.(string); ok && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return c.h.Send(ctx, room, EventPresence, presencePayload{Room: room, Users: users, Version: v})
}

// newID returns a random message id; the page drops a message it already
// shows (one that came both live and in a history).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
