// The notes editor (docs/realtime-protocol.md, "Collective notes"): a Yjs document bound to Quill, synced
// over the session's Socket.IO connection with binary messages. Local changes are merged and sent at most
// ten times a second; whatever the server has not acknowledged is sent again after a reconnection (the
// sync step compares state vectors, so edits made offline merge on their own). People who may edit keep a copy
// of the document in IndexedDB (y-indexeddb), one per session and person, so what they typed offline survives a
// reload or a closed tab: it is loaded before the first sync step and sent with whatever else the server lacks.
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import Quill from "quill";
import Cursors from "./cursors.js";
import { QuillBinding } from "y-quill";
import { IndexeddbPersistence } from "y-indexeddb";
import { io } from "socket.io-client";

Quill.register("modules/cursors", Cursors);

(function () {
  "use strict";
  const root = document.getElementById("notes");
  if (!root) return;
  const strings = document.getElementById("notes-text");
  const t = (key) => strings.getAttribute("data-" + key) || "";
  const $ = (id) => document.getElementById(id);
  const sessionId = Number(root.dataset.session);
  const person = root.dataset.person || "";
  const REMOTE = "remote";
  const SEND_EVERY = 100; // ms between two sends of local changes
  const AWARENESS_EVERY = 200;

  const doc = new Y.Doc();
  const text = doc.getText("quill");
  const awareness = new Awareness(doc);
  let editable = false;

  // The local copy: only for someone signed in who may edit (a reader has nothing of their own to keep).
  let local = null;
  if (person && root.dataset.editable === "true" && window.indexedDB) {
    try {
      local = new IndexeddbPersistence("baraza-notes-" + sessionId + "-" + person, doc);
    } catch (e) {
      local = null;
    }
  }
  // The first sync step waits for the local copy (never for long: a broken IndexedDB must not block the notes).
  const loaded = local
    ? Promise.race([local.whenSynced, new Promise((resolve) => setTimeout(resolve, 3000))]).catch(() => null)
    : Promise.resolve();
  function forget() {
    // No longer allowed to edit (or to read): the local copy goes.
    if (!local) return;
    const copy = local;
    local = null;
    copy.clearData().catch(() => null);
  }

  // Names come from the server with each awareness message, so nobody can show a cursor under another name.
  awareness.on("change", ({ added, updated }, origin) => {
    if (origin && origin.name) {
      for (const id of added.concat(updated)) {
        const state = awareness.getStates().get(id);
        if (state && state.user) state.user.name = origin.name;
      }
    }
    renderPeople();
  });

  const quill = new Quill("#notes-editor", {
    theme: "snow",
    placeholder: t("placeholder"),
    readOnly: true,
    modules: {
      toolbar: $("notes-toolbar") && !$("notes-toolbar").hidden ? "#notes-toolbar" : false,
      cursors: true,
      history: { userOnly: true },
      keyboard: {
        bindings: {
          // Tab and Shift+Tab leave the editor (keyboard users must not be trapped in it).
          tab: { key: "Tab", handler: () => true },
          "shift tab": { key: "Tab", shiftKey: true, handler: () => true },
        },
      },
    },
  });
  // Quill replaces the paragraph-style <select> with a picker: give the picker's button the select's name.
  document.querySelectorAll("#notes-toolbar .ql-picker").forEach((picker) => {
    const select = picker.nextElementSibling && picker.nextElementSibling.tagName === "SELECT" ? picker.nextElementSibling : null;
    const label = picker.getAttribute("aria-label") || (select && select.getAttribute("aria-label")) || "";
    picker.removeAttribute("aria-label");
    const button = picker.querySelector(".ql-picker-label");
    if (button) button.setAttribute("aria-label", label);
  });
  const area = quill.root;
  area.setAttribute("role", "textbox");
  area.setAttribute("aria-multiline", "true");
  area.setAttribute("aria-label", t("label"));
  area.setAttribute("aria-readonly", "true");
  new QuillBinding(text, quill, awareness); // eslint-disable-line no-new

  const name = root.dataset.name || "";
  awareness.setLocalStateField("user", { name, color: colour(name + doc.clientID) });

  function colour(seed) {
    let h = 0;
    for (const ch of seed) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return "hsl(" + (h % 360) + ", 70%, 35%)"; // dark enough for white text on the cursor flag
  }

  function setEditable(value) {
    editable = value;
    quill.enable(value);
    area.setAttribute("aria-readonly", value ? "false" : "true");
    $("notes-mode").textContent = value ? t("editing") : t("read-only");
  }

  // --- who is here -------------------------------------------------------------------------------------------

  function renderPeople() {
    const list = $("notes-people");
    list.replaceChildren();
    awareness.getStates().forEach((state, id) => {
      if (!state.user) return;
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "notes-swatch";
      swatch.setAttribute("aria-hidden", "true");
      swatch.style.backgroundColor = state.user.color || "#555";
      const label = document.createElement("bdi");
      label.textContent = state.user.name || "?";
      li.append(swatch, label);
      if (id === doc.clientID) li.append(" (" + t("you") + ")");
      if (state.cursor) li.classList.add("notes-editing");
      list.append(li);
    });
  }

  // --- the connection ----------------------------------------------------------------------------------------

  const socket = io({ auth: { session: sessionId }, transports: ["websocket", "polling"], tryAllTransports: true });
  let ready = false; // joined the notes on this connection
  let pending = []; // local updates not sent yet
  let inflight = null; // sent, not acknowledged yet
  let sendTimer = null;

  function showConnection(state) {
    const box = $("notes-connection");
    box.dataset.state = state;
    box.querySelector(".connection-text").textContent = t(state);
  }
  function showSaved() {
    $("notes-saved").textContent = pending.length || inflight ? t("saving") : t("saved");
  }
  function alertRefusal(error) {
    $("notes-alert").textContent = t("refused") + " " + ((error && error.message) || "");
  }

  socket.on("connect", () => showConnection("connected"));
  socket.on("disconnect", () => {
    ready = false;
    if (inflight) pending.unshift(inflight); // not acknowledged: it goes again (Yjs applies it once)
    inflight = null;
    showConnection("offline");
    setEditable(editable); // keep typing offline
    failed = true;
  });
  socket.on("connect_error", () => {
    showConnection("offline");
    failed = true;
    editOffline();
  });
  socket.on("welcome", () => loaded.then(join));
  // Reopened while offline: the kept copy is shown and can be edited; the sync step sends it on connection.
  // (Online, the editor waits for the sync step as before, so nobody types into a half-loaded document.)
  let localLoaded = false;
  let failed = false; // the connection failed or dropped since the page opened
  loaded.then(() => {
    localLoaded = true;
    editOffline();
  });
  function editOffline() {
    if (local && localLoaded && failed && !ready && !socket.connected) setEditable(true);
  }
  socket.on("revoked", forget);

  function join() {
    if (!socket.connected) return;
    socket.timeout(10000).emit("notes.join", { sv: Y.encodeStateVector(doc), client_id: doc.clientID }, (err, ack) => {
      if (err) return socket.connected && setTimeout(join, 2000);
      if (!ack.ok) {
        if (ack.error && ack.error.code === "not_allowed") forget(); // no longer one of the session's people
        return alertRefusal(ack.error);
      }
      Y.applyUpdate(doc, new Uint8Array(ack.update), REMOTE);
      // Whatever the server lacks (edits made offline, or never acknowledged) goes as one update.
      const missing = Y.encodeStateAsUpdate(doc, new Uint8Array(ack.sv));
      pending = ack.editable && missing.length > 2 ? [missing] : [];
      inflight = null;
      ready = true;
      if (!ack.editable) forget();
      setEditable(ack.editable);
      sendAwareness();
      send();
    });
  }

  doc.on("update", (update, origin) => {
    if (origin === REMOTE || (local && origin === local)) return; // the local copy's own load is sent by the sync step
    pending.push(update);
    showSaved();
    if (!sendTimer) sendTimer = setTimeout(send, SEND_EVERY);
  });

  function send() {
    sendTimer = null;
    if (!ready || inflight || !pending.length || !socket.connected) return showSaved();
    const update = pending.length === 1 ? pending[0] : Y.mergeUpdates(pending);
    pending = [];
    inflight = update;
    showSaved();
    socket.timeout(10000).emit("notes.update", { update }, (err, ack) => {
      if (inflight !== update) return; // a reconnection took over
      inflight = null;
      if (err || (!ack.ok && ack.error.code === "rate_limited")) {
        pending.unshift(update);
        sendTimer = sendTimer || setTimeout(send, 1000);
        return showSaved();
      }
      if (!ack.ok) alertRefusal(ack.error);
      showSaved();
      if (pending.length && !sendTimer) sendTimer = setTimeout(send, SEND_EVERY);
    });
  }

  socket.on("notes.update", (update) => Y.applyUpdate(doc, new Uint8Array(update), REMOTE));
  socket.on("notes.awareness", (msg) => applyAwarenessUpdate(awareness, new Uint8Array(msg.update), { name: msg.name }));
  socket.on("notes.gone", (msg) => removeAwarenessStates(awareness, [msg.client_id], "server"));
  socket.on("notes.access", () => ready && join()); // who may edit changed: ask again
  setInterval(() => ready && join(), 30000); // a relay lost on the way (Redis is at-most-once) comes back here

  let awarenessTimer = null;
  function sendAwareness() {
    awarenessTimer = null;
    if (!ready) return;
    socket.emit("notes.awareness", { update: encodeAwarenessUpdate(awareness, [doc.clientID]) });
  }
  awareness.on("update", (_changes, origin) => {
    if (origin === "local" && !awarenessTimer) awarenessTimer = setTimeout(sendAwareness, AWARENESS_EVERY);
  });
  window.addEventListener("pagehide", () => removeAwarenessStates(awareness, [doc.clientID], "local"));

  // For tests and curious developers: the document behind the editor.
  root.notes = { doc, text, quill, awareness, socket, local: () => local };
})();
