// The live room (docs/realtime-protocol.md): one socket, sequenced events applied in order, and
// moderator actions kept in a queue (saved in localStorage) until the server acknowledges them.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root || !window.io) return;

  const $ = (selector, within) => (within || root).querySelector(selector);
  const $$ = (selector, within) => Array.from((within || root).querySelectorAll(selector));
  const strings = $("#live-text");
  // Translated strings rendered by the server; {name} placeholders are filled in one pass.
  const t = (key, vars) => (strings.getAttribute("data-" + key.replace(/_/g, "-")) || "")
    .replace(/\{(\w+)\}/g, (whole, name) => (vars && name in vars ? String(vars[name]) : whole));

  const sessionId = Number(root.dataset.session);
  const moderator = root.dataset.moderator === "true";
  const queueKey = "baraza.live." + sessionId + "." + root.dataset.person;

  // What the server last told us.
  let last = null; // the last sequence number applied; null until the first welcome
  let skew = 0; // server clock minus ours, in milliseconds
  let me = null;
  const room = { status: $("#live-status").dataset.status, agenda: null, current: null, timer: null };
  const people = new Map();
  // Other live modules (board.js) follow the room through these: snapshot, event, caughtUp, room, queue, person.
  const hooks = {};
  const on = (name, fn) => (hooks[name] = hooks[name] || []).push(fn);
  const emit = (name, ...args) => (hooks[name] || []).forEach((fn) => fn(...args));
  // Types this file applies itself; every other sequenced event goes to the modules that asked for it.
  const ROOM_EVENTS = new Set(["session.status", "agenda.current", "agenda.changed", "timer", "room.policy"]);

  // --- the connection ----------------------------------------------------------------------------------------------

  const socket = window.io({
    // A function, so every reconnection says where this page was.
    auth: (send) => send(last === null ? { session: sessionId } : { session: sessionId, since: last }),
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    autoConnect: false, // connect once every deferred module has registered its handlers
  });
  let everConnected = false;
  let ready = false; // welcomed into the room on this connection: actions may be sent
  let stopped = false;
  let comeBack = false; // reconnect once after the server closes the connection (access changed)

  socket.on("connect", () => {
    everConnected = true;
    showConnection();
  });
  socket.on("disconnect", (reason) => {
    ready = false;
    sending = null; // whatever was in flight is sent again, with the same cid
    syncing = false;
    showConnection();
    if (stopped) return;
    if (comeBack) {
      comeBack = false;
      socket.connect();
    } else if (reason === "io server disconnect") {
      setTimeout(() => stopped || socket.connected || socket.connect(), 3000);
    }
  });
  socket.on("connect_error", (err) => {
    if (socket.active) return showConnection(); // a network failure: socket.io tries again with backoff
    // Refused by the server: the protocol puts {code, message} in err.data.
    const data = err.data || {};
    const code = data.code || "not_allowed";
    stop(t("refused-" + code) || data.message || err.message);
  });
  socket.on("revoked", (data) => {
    const code = (data && data.code) || "removed";
    if ((code === "role_changed" || code === "access_changed") && !comeBack) {
      comeBack = true; // judged afresh when we reconnect
      alertText(t("revoked-" + code));
    } else {
      stop(t("revoked-" + code), code === "signed_out");
    }
  });
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);

  function stop(message, signIn) {
    stopped = true;
    ready = false;
    socket.disconnect();
    const box = $("#live-stopped");
    $(".live-stopped-text", box).textContent = message;
    if (signIn) {
      const link = $(".live-stopped-link", box);
      link.href = root.dataset.loginUrl;
      link.textContent = t("sign-in");
    }
    box.hidden = false;
    showConnection();
  }

  function showConnection() {
    let state = "connecting";
    if (stopped) state = "closed";
    else if (socket.connected) state = "connected";
    else if (!navigator.onLine) state = "offline";
    else if (everConnected) state = "reconnecting";
    const box = $("#live-connection");
    if (box.dataset.state !== state) {
      box.dataset.state = state;
      $(".connection-text", box).textContent = t(state);
    }
    $(".connection-count", box).textContent = String(queue.length);
    $(".connection-queue", box).hidden = !queue.length || state === "connected";
  }

  // --- catching up and following ----------------------------------------------------------------------------------

  socket.on("welcome", (body) => {
    me = body.you;
    if (me && me.moderator !== moderator) return location.reload(); // the page's controls depend on it
    if (body.seq === undefined) return showLobbyPlace(body.lobby); // a guest still in the lobby
    comeBack = false;
    $("#live-room").hidden = false;
    const waiting = document.getElementById("live-waiting");
    if (waiting) waiting.hidden = true;
    catchUp(body);
    ready = true;
    flush();
  });

  // With several workers, two events can arrive in the other order: an early one waits a moment for the
  // one before it before the page asks the server (docs/realtime-protocol.md, "Several workers").
  const early = new Map(); // the expected predecessor -> the event that follows it
  let gapTimer = null;
  const follows = (event) => (moderator ? event.seq === last + 1 : event.prev === last);
  const expected = (event) => (moderator ? event.seq - 1 : event.prev);

  // A busy room's events come several to a message, in order (docs/realtime-protocol.md, "events").
  socket.on("events", (events) => {
    if (!Array.isArray(events)) return;
    events.forEach(receive);
    render();
  });

  function receive(event) {
    if (!event || last === null || event.seq <= last) return; // not welcomed yet, or a duplicate
    if (!follows(event)) {
      early.set(expected(event), event);
      if (!gapTimer) gapTimer = setTimeout(closeGap, 400);
      return;
    }
    let next = event;
    while (next) {
      apply(next);
      last = next.seq;
      early.delete(expected(next));
      next = early.get(last);
    }
    if (!early.size && gapTimer) {
      clearTimeout(gapTimer);
      gapTimer = null;
    }
  }

  function closeGap() {
    gapTimer = null;
    early.forEach((event, before) => before <= last && early.delete(before));
    if (early.size) {
      early.clear();
      sync(); // still missing: the server sends exactly what is missing
    }
  }
  socket.on("tick", (tick) => {
    if (last !== null && tick.seq > last) sync();
  });

  let syncing = false;
  let syncAgain = false;
  function sync() {
    if (!socket.connected) return; // the welcome after reconnecting catches up
    if (syncing) {
      syncAgain = true;
      return;
    }
    syncing = true;
    socket.timeout(10000).emit("sync", { since: last }, (err, body) => {
      syncing = false;
      if (err || !body || !body.ok) return; // the next tick asks again
      catchUp(body);
      if (syncAgain) {
        syncAgain = false;
        sync();
      }
    });
  }

  function catchUp(body) {
    if (body.server_time) {
      // Includes the message's travel time, so small differences are noise: correct only clocks that are off.
      const measured = parseTime(body.server_time) - Date.now();
      skew = Math.abs(measured) > 1500 ? measured : 0;
    }
    if (body.snapshot) {
      const s = body.snapshot;
      room.status = s.session.status;
      room.agenda = s.agenda;
      room.current = s.current_item_id;
      room.timer = s.timer;
      showPolicy(s.session.guest_policy, s.session.capacity);
      renderAgenda();
      emit("snapshot", s);
    } else {
      (body.events || []).forEach((event) => (last === null || event.seq > last) && apply(event));
    }
    last = Math.max(last || 0, body.seq);
    people.clear();
    (body.presence || []).forEach((person) => people.set(person.id, person));
    renderPeople();
    if (Array.isArray(body.lobby)) renderLobby(body.lobby);
    emit("caughtUp", body); // private state and polls come with every welcome and sync
    render();
  }

  function apply(event) {
    const data = event.data || {};
    if (!ROOM_EVENTS.has(event.type)) return emit("event", event);
    if (event.type === "room.policy") return showPolicy(data.guest_policy, data.capacity);
    if ("status" in data) room.status = data.status;
    if ("current_item_id" in data) room.current = data.current_item_id;
    if ("timer" in data) room.timer = data.timer;
    else if (room.current === null) room.timer = null; // an agenda edit removed the current item
    if (data.agenda) {
      room.agenda = data.agenda;
      renderAgenda();
    }
  }

  socket.on("presence", (change) => {
    (change.left || []).forEach((id) => people.delete(id));
    (change.joined || []).forEach((person) => people.set(person.id, person));
    renderPeople();
  });
  socket.on("lobby", (lobby) => (Array.isArray(lobby.waiting) ? renderLobby(lobby.waiting) : showLobbyPlace(lobby)));
  socket.on("admitted", () => socket.disconnect().connect()); // come back in as a member of the room

  // --- drawing -----------------------------------------------------------------------------------------------------

  function render() {
    const badge = $("#live-status");
    badge.dataset.status = room.status;
    badge.className = "badge badge-status-" + room.status;
    badge.textContent = t("status-" + room.status);
    $("#live-ended").hidden = room.status !== "ended";
    $("#live-not-started").hidden = room.status !== "scheduled" && room.status !== "draft";
    const item = (room.agenda || []).find((i) => i.id === room.current);
    $("#now-title").hidden = !item;
    $("#now-title bdi").textContent = item ? item.title : "";
    const presenter = $("#now-presenter");
    presenter.hidden = !(item && item.presenter);
    presenter.textContent = item && item.presenter ? t("presenter", { name: item.presenter }) : "";
    $$(".live-item").forEach((li) => {
      if (Number(li.dataset.itemId) === room.current) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    renderTimer();
    if (moderator) renderControls(item);
    emit("room", room);
  }

  function renderAgenda() {
    const list = $("#live-agenda");
    const template = document.getElementById("tpl-item");
    list.textContent = "";
    room.agenda.forEach((item) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.dataset.itemId = item.id;
      const title = $(".live-item-title", li);
      title.id = "item-title-" + item.id;
      $("bdi", title).textContent = item.title;
      $(".live-item-minutes", li).textContent = t("minutes", { n: item.minutes });
      const button = $("button", li);
      if (button) button.setAttribute("aria-describedby", title.id);
      list.appendChild(li);
    });
    $("#live-no-agenda").hidden = room.agenda.length > 0;
  }

  function renderControls(item) {
    const live = room.status === "live";
    const timer = room.timer || {};
    const running = Boolean(timer.ends_at);
    const paused = timer.remaining !== null && timer.remaining !== undefined;
    const agenda = room.agenda || [];
    const show = (action, visible) => $$("[data-action='" + action + "']").forEach((b) => (b.hidden = !visible));
    show("session.start", room.status === "scheduled");
    show("session.end", live);
    show("agenda.next", live && agenda.length > 0 && agenda[agenda.length - 1] !== item);
    show("timer.start", live && !running && Boolean(item));
    show("timer.pause", live && running);
    show("timer.extend", live && (running || paused));
    $("[data-action='timer.start']").textContent = t(paused ? "timer-resume" : "timer-start");
    $$("[data-action='agenda.set_current']").forEach((b) => {
      b.hidden = !live || Number(b.closest("[data-item-id]").dataset.itemId) === room.current;
    });
  }

  function secondsLeft() {
    const timer = room.timer;
    if (timer && timer.ends_at) return (parseTime(timer.ends_at) - (Date.now() + skew)) / 1000;
    if (timer && timer.remaining !== null && timer.remaining !== undefined) return timer.remaining;
    return null;
  }

  function renderTimer() {
    const left = secondsLeft();
    let state = "stopped";
    if (left !== null) state = !room.timer.ends_at ? "paused" : left > 0 ? "running" : "over";
    const box = $("#live-timer");
    if (box.dataset.state !== state) {
      box.dataset.state = state;
      $(".timer-label", box).textContent = t("timer-" + state);
    }
    const value = left === null ? "--:--" : clock(left);
    const shown = $(".timer-value", box);
    if (shown.textContent !== value) shown.textContent = value;
  }
  setInterval(renderTimer, 1000); // local only: no traffic

  function clock(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  function parseTime(iso) {
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")); // microseconds: not every engine parses them
  }

  function renderPeople() {
    const list = $("#live-people");
    list.textContent = "";
    Array.from(people.values())
      .sort((a, b) => a.name.localeCompare(b.name))
      .forEach((person) => {
        const li = document.createElement("li");
        const name = document.createElement("bdi");
        name.textContent = person.name;
        li.appendChild(name);
        if (me && person.id === me.id) li.appendChild(document.createTextNode(" (" + t("you") + ")"));
        const about = person.guest ? [] : [t("role-" + person.role), person.side ? t("side-" + person.side) : ""];
        const details = document.createElement("span");
        details.className = "muted";
        details.textContent = about.filter(Boolean).join(" · ");
        if (details.textContent) li.append(" ", details);
        if (person.guest) {
          const badge = document.createElement("span");
          badge.className = "badge";
          badge.textContent = t("guest");
          li.append(" ", badge);
        }
        emit("person", li, person); // moderators' buttons
        list.appendChild(li);
      });
    $("#people-count").textContent = String(people.size);
  }

  function renderLobby(waiting) {
    const list = $("#live-lobby");
    if (!list) return;
    const template = document.getElementById("tpl-guest");
    list.textContent = "";
    waiting.forEach((guest) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.dataset.guestId = guest.guest_id;
      const name = $(".live-guest-name", li);
      name.id = "guest-" + guest.guest_id;
      name.textContent = guest.name;
      $$("button", li).forEach((b) => b.setAttribute("aria-describedby", name.id));
      list.appendChild(li);
    });
    $("#lobby-count").textContent = String(waiting.length);
    $("#lobby-empty").hidden = waiting.length > 0;
    $("[data-action='lobby.admit_all']").hidden = !waiting.length;
  }

  function showLobbyPlace(lobby) {
    const place = document.getElementById("live-position");
    if (place && lobby && lobby.position) place.textContent = t("position", lobby);
  }

  function showPolicy(policy, capacity) {
    const form = document.getElementById("live-policy");
    if (!form || form.contains(document.activeElement)) return; // do not overwrite what is being typed
    form.elements.policy.value = policy;
    form.elements.capacity.value = capacity || "";
  }

  function alertText(message) {
    $("#live-alert").textContent = message || "";
  }

  // --- moderator actions: queued, sent in order, each applied once -------------------------------------------------

  let queue = loadQueue();
  let sending = null; // the attempt waiting for its acknowledgement

  function loadQueue() {
    try {
      const saved = JSON.parse(localStorage.getItem(queueKey) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue() {
    try {
      if (queue.length) localStorage.setItem(queueKey, JSON.stringify(queue));
      else localStorage.removeItem(queueKey);
    } catch (e) {
      /* private mode or full: the queue still lives in this page */
    }
    showConnection();
    emit("queue", queue);
  }

  function newCid() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Answers wanted by this page, by cid (not saved: after a reload the alert shows the refusal instead).
  const answers = new Map();

  function act(name, fields, answer) {
    const entry = { name: name, data: Object.assign({ cid: newCid() }, fields), tries: 0 };
    if (answer) answers.set(entry.data.cid, answer);
    queue.push(entry);
    saveQueue();
    flush();
    return entry.data.cid;
  }

  function flush() {
    if (sending || !ready || !socket.connected || !queue.length) return;
    const entry = queue[0];
    const attempt = (sending = { cid: entry.data.cid });
    socket.timeout(10000).emit(entry.name, entry.data, (err, ack) => {
      if (sending !== attempt) return; // an answer for a connection that has since dropped
      sending = null;
      const code = ack && ack.ok === false ? ack.error.code : null;
      // No answer, or "try again": keep it; the same cid makes a repeat harmless.
      if (err || ((code === "server_error" || code === "rate_limited") && ++entry.tries < 5)) {
        if (code) alertText(ack.error.message);
        saveQueue();
        setTimeout(flush, 2000);
        return;
      }
      queue = queue.filter((e) => e.data.cid !== attempt.cid);
      const answer = answers.get(attempt.cid);
      answers.delete(attempt.cid);
      saveQueue();
      // The module that asked shows its own refusals where they belong (the board: beside the composer).
      const shown = answer ? answer(ack || {}) === true : false;
      if (!shown) alertText(code ? ack.error.message : "");
      flush();
    });
  }

  // Another tab of the same person changed the queue: take its version (duplicate cids are harmless).
  window.addEventListener("storage", (e) => {
    if (e.key !== queueKey) return;
    queue = loadQueue();
    showConnection();
    emit("queue", queue);
    flush();
  });

  root.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const question = button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) return;
    const fields = {};
    if (button.dataset.seconds) fields.seconds = Number(button.dataset.seconds);
    const item = button.closest("[data-item-id]");
    if (item) fields.item_id = Number(item.dataset.itemId);
    const guest = button.closest("[data-guest-id]");
    if (guest) fields.guest_id = Number(guest.dataset.guestId);
    act(button.dataset.action, fields);
  });

  const policyForm = document.getElementById("live-policy");
  if (policyForm) {
    policyForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const capacity = policyForm.elements.capacity.value.trim();
      const fields = { policy: policyForm.elements.policy.value };
      if (capacity) fields.capacity = Number(capacity);
      act("room.set_guest_policy", fields);
    });
  }

  window.BarazaLive = {
    act, t, on, socket, room, moderator,
    me: () => me,
    people: () => people,
    queued: () => queue,
    renderPeople,
    clock,
    parseTime,
    now: () => Date.now() + skew, // the server's clock
  };

  showConnection();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => socket.connect());
  else socket.connect();
})();
