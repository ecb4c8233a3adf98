// The chat page: socket.io-client (the official browser bundle, global io)
// talking the helper's protocol, then the chat's events (see chat.go).
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const saved = {
    get user() { return sessionStorage.getItem("chat.user"); },
    set user(v) { v ? sessionStorage.setItem("chat.user", v) : sessionStorage.removeItem("chat.user"); },
    get rooms() { return JSON.parse(sessionStorage.getItem("chat.rooms") || "null"); },
    set rooms(v) { v ? sessionStorage.setItem("chat.rooms", JSON.stringify(v)) : sessionStorage.removeItem("chat.rooms"); },
    get active() { return sessionStorage.getItem("chat.active"); },
    set active(v) { v ? sessionStorage.setItem("chat.active", v) : sessionStorage.removeItem("chat.active"); },
  };

  let socket = null;
  let channels = [];
  let active = null;
  // focus is the room to show once joined: the one clicked, or after a
  // reload the one shown before.
  let focus = saved.active;
  // room -> {messages, ids, users, version, typing: Map(user -> timer)}
  const rooms = new Map();

  function setStatus(state, detail) {
    const s = $("status");
    s.dataset.state = state;
    s.textContent = detail ? `${state} (${detail})` : state;
  }

  function notice(text, room) {
    const li = document.createElement("li");
    li.textContent = text;
    if (room) li.dataset.room = room;
    $("notices").append(li);
  }

  function room(name) {
    let r = rooms.get(name);
    if (!r) {
      r = { messages: [], ids: new Set(), users: [], version: 0, typing: new Map() };
      rooms.set(name, r);
    }
    return r;
  }

  function saveRooms() { saved.rooms = [...rooms.keys()]; }

  function addMessage(r, m) {
    if (r.ids.has(m.id)) return false;
    r.ids.add(m.id);
    r.messages.push(m);
    return true;
  }

  function renderChannels() {
    const ul = $("channels");
    ul.replaceChildren(...channels.map((c) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.channel = c;
      b.textContent = (rooms.has(c) ? "# " : "+ ") + c;
      b.onclick = () => {
        if (rooms.has(c)) {
          setActive(c);
        } else {
          focus = c;
          join([c]);
        }
      };
      li.append(b);
      return li;
    }));
  }

  function renderTabs() {
    $("tabs").replaceChildren(...[...rooms.keys()].map((name) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.room = name;
      b.textContent = "#" + name;
      if (name === active) b.classList.add("active");
      b.onclick = () => setActive(name);
      return b;
    }));
    renderChannels();
  }

  function renderMessages() {
    const r = rooms.get(active);
    $("messages").replaceChildren(...(r ? r.messages : []).map((m) => {
      const li = document.createElement("li");
      li.dataset.id = m.id;
      const u = document.createElement("span");
      u.className = "user";
      u.textContent = m.user;
      const t = document.createElement("span");
      t.className = "text";
      t.textContent = m.text;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = `${new Date(m.time).toLocaleTimeString()} via ${m.server}`;
      li.append(u, t, meta);
      return li;
    }));
    const ol = $("messages");
    ol.scrollTop = ol.scrollHeight;
  }

  function renderPresence() {
    const r = rooms.get(active);
    $("presence").replaceChildren(...(r ? r.users : []).map((u) => {
      const li = document.createElement("li");
      li.textContent = u;
      return li;
    }));
  }

  function renderTyping() {
    const r = rooms.get(active);
    const who = r ? [...r.typing.keys()] : [];
    $("typing").textContent = who.length === 0 ? "" :
      who.join(", ") + (who.length === 1 ? " is typing…" : " are typing…");
  }

  function renderRoom() {
    renderTabs();
    renderMessages();
    renderPresence();
    renderTyping();
  }

  function setActive(name) {
    active = rooms.has(name) ? name : ([...rooms.keys()][0] || null);
    saved.active = active;
    renderRoom();
  }

  function join(list) {
    if (socket) socket.emit("join", { rooms: list });
  }

  // Typing indicator: "typing" at the first key and again every 2 s while
  // keys come, "not typing" 2.5 s after the last one or when sent.
  let typingSent = 0;
  let typingStop = null;
  function typing(on) {
    if (!socket || !active) return;
    clearTimeout(typingStop);
    if (on) {
      if (Date.now() - typingSent > 2000) {
        socket.emit("chat:typing", { room: active, typing: true });
        typingSent = Date.now();
      }
      typingStop = setTimeout(() => typing(false), 2500);
    } else if (typingSent) {
      socket.emit("chat:typing", { room: active, typing: false });
      typingSent = 0;
    }
  }

  function showLogin() {
    $("chat").hidden = true;
    $("login").hidden = false;
    $("whoami").textContent = "";
    $("server").textContent = "";
  }

  function start(user) {
    $("login").hidden = true;
    $("chat").hidden = false;
    setStatus("connecting");
    // The credentials travel in the CONNECT auth payload; the helper reads
    // them from the handshake when the page sends "authenticate".
    socket = io({ auth: { user }, closeOnBeforeunload: true });

    socket.on("connect", () => {
      setStatus("authenticating");
      socket.emit("authenticate");
    });
    socket.on("authenticated", () => {
      setStatus("authenticated");
      // After a reload or a reconnection: the channels we were in.
      join(saved.rooms || ["general"]);
    });
    socket.on("unauthenticated", ({ message }) => {
      setStatus("unauthenticated", message);
      notice(message);
      saved.user = null;
    });
    socket.on("ping", ({ time }) => { $("ping").textContent = "ping " + time; });
    socket.on("disconnect", (reason) => {
      setStatus("offline", reason);
      if (reason === "io server disconnect") {
        // The server will not have us back by itself (failed login).
        socket = null;
        showLogin();
      }
    });
    socket.on("connect_error", (err) => setStatus("offline", err.message));

    socket.on("chat:welcome", (w) => {
      channels = w.channels;
      $("whoami").textContent = w.user;
      $("server").textContent = "server " + w.server;
      $("server").dataset.server = w.server;
      renderChannels();
    });
    socket.on("chat:joined", ({ room: name, history }) => {
      const r = room(name);
      const live = r.messages.filter((m) => !history.some((h) => h.id === m.id));
      r.messages = [];
      r.ids = new Set();
      for (const m of history.concat(live)) addMessage(r, m);
      saveRooms();
      if (name === focus) {
        focus = null;
        setActive(name);
      } else {
        setActive(active || name);
      }
    });
    socket.on("chat:denied", ({ room: name, reason }) => {
      notice(`Room "${name}" refused: ${reason}`, name);
      if (rooms.delete(name)) saveRooms();
      renderTabs();
    });
    socket.on("chat:left", ({ room: name }) => {
      rooms.delete(name);
      saveRooms();
      setActive(active === name ? null : active);
    });
    socket.on("chat:message", (m) => {
      const r = rooms.get(m.room);
      if (!r || !addMessage(r, m)) return;
      r.typing.delete(m.user);
      if (m.room === active) { renderMessages(); renderTyping(); }
    });
    socket.on("chat:presence", ({ room: name, users, version }) => {
      const r = rooms.get(name);
      if (!r || version <= r.version) return; // an older list
      r.users = users;
      r.version = version;
      if (name === active) renderPresence();
    });
    socket.on("chat:typing", ({ room: name, user, typing: on }) => {
      const r = rooms.get(name);
      if (!r) return;
      clearTimeout(r.typing.get(user));
      if (on) {
        r.typing.set(user, setTimeout(() => { r.typing.delete(user); renderTyping(); }, 5000));
      } else {
        r.typing.delete(user);
      }
      if (name === active) renderTyping();
    });
    socket.on("chat:error", ({ message }) => notice(message));
  }

  $("login").onsubmit = (e) => {
    e.preventDefault();
    const user = $("user").value.trim();
    saved.user = user;
    saved.rooms = null;
    start(user);
  };
  $("join").onsubmit = (e) => {
    e.preventDefault();
    const name = $("join-input").value.trim();
    if (name) {
      focus = name;
      join([name]);
    }
    $("join-input").value = "";
  };
  $("compose").onsubmit = (e) => {
    e.preventDefault();
    const text = $("message-input").value.trim();
    if (!text || !socket || !active) return;
    typing(false);
    socket.emit("chat:message", { room: active, text });
    $("message-input").value = "";
  };
  $("message-input").oninput = () => typing($("message-input").value !== "");
  $("leave-button").onclick = () => {
    if (socket && active) socket.emit("leave", { rooms: [active] });
  };
  $("logout").onclick = () => {
    if (socket) socket.disconnect();
    socket = null;
    saved.user = null;
    saved.rooms = null;
    saved.active = null;
    rooms.clear();
    showLogin();
  };

  // A reload keeps the tab's session: log in again with the same name.
  if (saved.user) start(saved.user);
})();
