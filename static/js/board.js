// The board of the live room (docs/realtime-protocol.md, "The board"): contributions and their moderation, the
// board's settings, and moderators' tools for people. live.js owns the socket, the sequence numbers and the queue
// of actions; this module keeps the board's state, merges what arrives and draws only what changed, once per batch
// of changes, for itself and for speakers.js (the speaker queue) and polls.js (polls), which it shares with them
// through window.BarazaBoard. Load order: live.js, board.js, then speakers.js and polls.js.
(function () {
  "use strict";
  const live = window.BarazaLive;
  const root = document.getElementById("live");
  if (!live || !root || !document.getElementById("board")) return;

  const { act, t, moderator } = live;
  const $ = (selector, within) => (within || root).querySelector(selector);
  const $$ = (selector, within) => Array.from((within || root).querySelectorAll(selector));
  const LIMIT = 2000; // characters in a contribution, as the server counts them (code points)
  const lang = document.documentElement.lang || undefined;
  const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  const OPEN_STATUSES = ["scheduled", "live"];

  const state = {
    settings: {},
    items: new Map(), // contribution id -> what we know of it, merged from the snapshot and events
    mine: new Map(), // my own contributions in any state (personal), with editable_until
    votes: new Set(),
    muted: false, // also read by speakers.js: a muted person cannot raise a hand
    restrictions: [],
    // speakers.js adds speakers, hand and stats; polls.js adds polls and answered.
  };
  const view = { sort: "newest", filter: "all" };
  const dirty = new Set(); // contributions to redraw
  const redraw = { all: false, mine: false, speakers: false, polls: false, restrictions: false, stats: false };
  // What draws the parts of the page that the other modules own, by their `redraw` flag; in this order.
  const parts = { speakers: null, polls: null, restrictions: moderator ? drawRestrictions : null, stats: null };
  let welcomed = false;

  // --- following the room ------------------------------------------------------------------------------------------

  live.on("snapshot", (s) => {
    const board = s.board || {};
    state.settings = board.settings || {};
    state.items = new Map((board.contributions || []).map((c) => [c.id, c]));
    if (s.restrictions) state.restrictions = s.restrictions;
    Object.keys(redraw).forEach((k) => (redraw[k] = true));
    live.renderPeople();
    schedule();
  });

  live.on("event", (event) => {
    const data = event.data || {};
    switch (event.type) {
      case "contribution":
        if (data.contribution) merge(data.contribution);
        break;
      case "board.settings":
        state.settings = data.settings || state.settings;
        Object.entries(data.authors || {}).forEach(([id, author]) => {
          const c = state.items.get(Number(id));
          if (c) c.author = author;
        });
        redraw.all = redraw.mine = true;
        break;
      case "room.restrictions":
        state.restrictions = data.restrictions || [];
        redraw.restrictions = true;
        live.renderPeople();
        break;
    }
    schedule();
  });

  live.on("caughtUp", (body) => {
    if (body.personal) applyPersonal(body.personal);
    schedule();
  });

  live.socket.on("personal", (body) => {
    applyPersonal(body);
    schedule();
  });

  let roomSeen = "";
  live.on("room", (room) => {
    const agenda = JSON.stringify((room.agenda || []).map((i) => [i.id, i.title]));
    const seen = [room.status, room.current, agenda].join("|");
    if (seen === roomSeen) return;
    if (!roomSeen.endsWith(agenda)) fillItemChoices(room.agenda || []);
    roomSeen = seen;
    if (!itemTouched) $("#board-item").value = room.current ? String(room.current) : "";
    redraw.all = redraw.speakers = redraw.mine = true; // the speaker queue depends on the status too
    schedule();
  });

  let queuedPosts = "";
  live.on("queue", (queue) => {
    const posts = queue.filter((e) => e.name === "board.post").map((e) => e.data.cid).join();
    if (posts !== queuedPosts) {
      queuedPosts = posts;
      redraw.mine = true;
      schedule();
    }
  });

  live.on("person", decoratePerson);

  /** A whole or partial contribution: merge the keys present, never drop one that is missing. */
  function merge(patch) {
    const known = state.items.get(patch.id);
    if (patch.visible === false && (!moderator || patch.status === "withdrawn")) {
      if (known) state.items.delete(patch.id);
      dirty.add(patch.id);
      return;
    }
    const c = Object.assign(known || {}, patch);
    delete c.visible;
    if (!known) {
      state.items.set(c.id, c);
      if (welcomed && shown(c) && !c.parent_id && !state.mine.has(c.id)) announceNew();
    }
    dirty.add(c.id);
  }

  /** `personal` may carry only the parts that changed: a part that is absent stays as it was. */
  function applyPersonal(p) {
    if ("contributions" in p) {
      const before = new Set(state.mine.keys());
      state.mine = new Map((p.contributions || []).map((c) => [c.id, c]));
      new Set([...before, ...state.mine.keys()]).forEach((id) => dirty.add(id));
    }
    if ("votes" in p) {
      const votes = new Set(p.votes || []);
      [...state.votes, ...votes].forEach((id) => state.votes.has(id) !== votes.has(id) && dirty.add(id));
      state.votes = votes;
    }
    if ("muted" in p) {
      if (state.muted !== Boolean(p.muted)) redraw.all = true; // reply buttons
      state.muted = Boolean(p.muted);
    }
    redraw.mine = true; // speakers.js and polls.js take their own parts of `personal`
  }

  // --- drawing, once per batch of changes --------------------------------------------------------------------------

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(draw, 0);
  }

  function draw() {
    scheduled = false;
    welcomed = true;
    const focused = document.activeElement;
    drawStatus();
    drawBoard();
    if (redraw.mine) drawMine();
    Object.keys(parts).forEach((part) => redraw[part] && parts[part] && parts[part]());
    if (moderator) fillSettings();
    Object.keys(redraw).forEach((k) => (redraw[k] = false));
    // A node moved to its new place loses focus: give it back.
    if (focused && focused !== document.activeElement && document.body.contains(focused)) focused.focus();
  }

  const closed = () => !OPEN_STATUSES.includes(live.room.status);
  const locked = () => Boolean(state.settings.locked) && !moderator;
  const shown = (c) => c.body_html !== undefined && c.status === "approved" && (moderator || !c.hidden);

  function drawStatus() {
    const s = state.settings;
    $("#board-closed").hidden = !closed();
    $("#board-locked").hidden = closed() || !s.locked;
    $("#board-muted").hidden = !state.muted;
    $("#board-premoderated").hidden = !s.premoderation || moderator;
    const slow = $("#board-slow");
    slow.hidden = !s.slow_mode_seconds || moderator;
    slow.textContent = s.slow_mode_seconds ? t("board-slow", { seconds: s.slow_mode_seconds }) : "";
    $("#board-compose-fields").disabled = closed() || locked() || state.muted;
  }

  // The list: one element per contribution, kept and updated in place; moved only when the order changes.
  const elements = new Map();

  function drawBoard() {
    if (redraw.all) state.items.forEach((c) => dirty.add(c.id));
    dirty.forEach((id) => {
      const c = state.items.get(id);
      if (c && shown(c)) fill(elementFor(c), c);
      else if (elements.has(id)) {
        elements.get(id).remove();
        elements.delete(id);
      }
    });
    const tops = [];
    const replies = new Map();
    state.items.forEach((c) => {
      if (!shown(c)) return;
      if (c.parent_id) (replies.get(c.parent_id) || replies.set(c.parent_id, []).get(c.parent_id)).push(c);
      else tops.push(c);
    });
    const wanted = tops.filter(matchesFilter).sort(compare);
    reconcile($("#board-list"), wanted.map((c) => elements.get(c.id)));
    wanted.forEach((c) => {
      const list = $(".contrib-replies", elements.get(c.id));
      reconcile(list, (replies.get(c.id) || []).sort((a, b) => a.id - b.id).map((r) => elements.get(r.id)));
    });
    $("#board-empty").hidden = wanted.length > 0;
    $("#board-count").textContent = String(tops.length + Array.from(replies.values()).reduce((n, l) => n + l.length, 0));
    drawHighlight();
    if (moderator && (dirty.size || redraw.all)) drawQueue();
    dirty.clear();
    planExpiry();
  }

  function matchesFilter(c) {
    if (view.filter === "all") return true;
    if (view.filter === "general") return c.item_id === null || c.item_id === undefined;
    return String(c.item_id) === view.filter;
  }

  function compare(a, b) {
    if (Boolean(a.pinned) !== Boolean(b.pinned)) return a.pinned ? -1 : 1;
    if (view.sort === "votes" && (a.votes || 0) !== (b.votes || 0)) return (b.votes || 0) - (a.votes || 0);
    return b.id - a.id;
  }

  /** Make `list` hold exactly `wanted`, in order, moving as few nodes as possible. */
  function reconcile(list, wanted) {
    let cursor = list.firstElementChild;
    wanted.forEach((el) => {
      if (el === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(el, cursor);
    });
    while (cursor) {
      const next = cursor.nextElementSibling;
      cursor.remove();
      cursor = next;
    }
  }

  function elementFor(c) {
    let li = elements.get(c.id);
    if (li) return li;
    li = document.getElementById("tpl-contribution").content.firstElementChild.cloneNode(true);
    li.dataset.contribution = c.id;
    const head = $(".contrib-head", li);
    head.id = "contrib-" + c.id + "-head";
    $$("button", li).forEach((b) => b.setAttribute("aria-describedby", head.id));
    if (c.parent_id) {
      li.classList.add("contrib-reply");
      $(".contrib-replies", li).remove();
      $("[data-board='reply']", li).remove();
    }
    elements.set(c.id, li);
    return li;
  }

  const setText = (node, text) => node.textContent !== text && (node.textContent = text);
  const show = (node, visible) => node && node.hidden === visible && (node.hidden = !visible);

  function authorName(c) {
    if (state.settings.non_attribution && !moderator) return t("board-anonymous");
    return c.author ? c.author.name : "";
  }

  function itemLabel(c) {
    if (!c.item_id) return t("board-general");
    const item = (live.room.agenda || []).find((i) => i.id === c.item_id);
    return item ? item.title : "";
  }

  function setBody(holder, html) {
    if (holder._html === html) return;
    holder._html = html;
    holder.innerHTML = html; // rendered from Markdown and sanitised with nh3 on the server
    $$("a", holder).forEach((a) => (a.target = "_blank")); // a link must not take anyone out of the room
  }

  function fill(li, c) {
    const mine = state.mine.get(c.id);
    const readOnly = closed() || locked();
    const highlighted = state.settings.highlighted_id === c.id;
    li.classList.toggle("contrib-hidden", Boolean(c.hidden));
    li.classList.toggle("contrib-is-pinned", Boolean(c.pinned));
    li.classList.toggle("contrib-is-highlighted", highlighted);
    setText($(".contrib-author", li), authorName(c));
    show($(".contrib-guest", li), Boolean(c.author && c.author.guest) && !(state.settings.non_attribution && !moderator));
    show($(".contrib-you", li), Boolean(mine));
    show($(".contrib-pinned", li), Boolean(c.pinned));
    show($(".contrib-answered", li), Boolean(c.answered));
    show($(".contrib-hidden-badge", li), Boolean(c.hidden));
    setText($(".contrib-item", li), view.filter === "all" && !c.parent_id ? itemLabel(c) : "");
    const time = $(".contrib-time", li);
    if (c.created_at && time.dateTime !== c.created_at) {
      time.dateTime = c.created_at;
      time.textContent = timeFormat.format(new Date(live.parseTime(c.created_at)));
    }
    show($(".contrib-edited", li), Boolean(c.edited));
    setBody($(".contrib-body", li), c.body_html || "");
    const vote = $("[data-board='vote']", li);
    const pressed = String(state.votes.has(c.id));
    if (vote.getAttribute("aria-pressed") !== pressed) vote.setAttribute("aria-pressed", pressed);
    setText($(".contrib-votes", vote), String(c.votes || 0));
    vote.disabled = readOnly;
    const reply = $("[data-board='reply']", li);
    if (reply) reply.disabled = readOnly || state.muted;
    const editable = Boolean(mine) && !closed() && live.parseTime(mine.editable_until) > live.now();
    show($("[data-board='edit']", li), editable);
    show($("[data-board='withdraw']", li), editable);
    if (!moderator) return;
    show($("[data-board='pin']", li), !c.pinned);
    show($("[data-board='unpin']", li), Boolean(c.pinned));
    show($("[data-board='answer']", li), !c.answered);
    show($("[data-board='unanswer']", li), Boolean(c.answered));
    show($("[data-board='highlight']", li), !highlighted && !c.hidden);
    show($("[data-board='unhighlight']", li), highlighted);
    show($("[data-board='hide']", li), !c.hidden);
    show($("[data-board='restore']", li), Boolean(c.hidden));
  }

  function drawHighlight() {
    const box = $("#board-highlight");
    const c = state.items.get(state.settings.highlighted_id);
    box.hidden = !(c && shown(c));
    if (box.hidden) return;
    setBody($(".board-highlight-body", box), c.body_html);
    setText($(".board-highlight-author bdi", box), authorName(c));
  }

  // Moderators: what waits for approval, oldest first.
  const queueElements = new Map();
  function drawQueue() {
    const pending = Array.from(state.items.values())
      .filter((c) => c.status === "pending" && c.body_html !== undefined)
      .sort((a, b) => a.id - b.id);
    const wanted = pending.map((c) => {
      let li = queueElements.get(c.id);
      if (!li) {
        li = document.getElementById("tpl-queue").content.firstElementChild.cloneNode(true);
        li.dataset.contribution = c.id;
        const head = $(".contrib-head", li);
        head.id = "queue-" + c.id + "-head";
        $$("button", li).forEach((b) => b.setAttribute("aria-describedby", head.id));
        const reason = $("input[name=reason]", li);
        reason.id = "queue-" + c.id + "-reason";
        $(".board-reject label", li).htmlFor = reason.id;
        queueElements.set(c.id, li);
      }
      setText($(".contrib-author", li), c.author ? c.author.name : "");
      show($(".contrib-guest", li), Boolean(c.author && c.author.guest));
      setText($(".contrib-item", li), itemLabel(c));
      setBody($(".contrib-body", li), c.body_html);
      return li;
    });
    Array.from(queueElements.keys()).forEach((id) => pending.some((c) => c.id === id) || queueElements.delete(id));
    reconcile($("#board-queue-list"), wanted);
    $("#board-queue-count").textContent = String(pending.length);
    $("#board-queue-empty").hidden = pending.length > 0;
  }

  // My own contributions that are not on the board: sending, waiting for a moderator, or rejected.
  function drawMine() {
    const list = $("#board-mine-list");
    const template = document.getElementById("tpl-mine");
    const fragment = document.createDocumentFragment();
    const add = (body, isHtml, stateText, reason, c) => {
      const li = template.content.firstElementChild.cloneNode(true);
      if (isHtml) setBody($(".contrib-body", li), body);
      else $(".contrib-body", li).textContent = body;
      const line = $(".board-mine-state", li);
      line.textContent = stateText;
      if (reason) line.append(" ", t("board-reason", { reason: reason }));
      if (c) {
        li.dataset.contribution = c.id;
        const editable = !closed() && live.parseTime(c.editable_until) > live.now();
        $$("button", li).forEach((b) => (b.hidden = !editable));
      }
      fragment.appendChild(li);
    };
    live.queued()
      .filter((e) => e.name === "board.post")
      .forEach((e) => add(e.data.body, false, t("board-sending")));
    state.mine.forEach((c) => {
      if (c.status === "pending") add(c.body_html, true, t("board-waiting"), "", c);
      else if (c.status === "rejected") add(c.body_html, true, t("board-rejected"), c.reason, c);
    });
    if (list.querySelector("form")) return; // an edit in progress: keep it until it is sent
    list.textContent = "";
    list.appendChild(fragment);
    $("#board-mine").hidden = !list.children.length;
  }

  // Edit and withdraw buttons disappear when the edit window closes: one timer for the next one to close.
  let expiryTimer = null;
  function planExpiry() {
    clearTimeout(expiryTimer);
    const now = live.now();
    const next = Math.min(
      ...Array.from(state.mine.values())
        .map((c) => live.parseTime(c.editable_until))
        .filter((when) => when > now),
    );
    if (!isFinite(next)) return;
    expiryTimer = setTimeout(() => {
      state.mine.forEach((c) => dirty.add(c.id));
      redraw.mine = true;
      schedule();
    }, next - now + 500);
  }

  let newCount = 0;
  let newTimer = null;
  function announceNew() {
    newCount += 1;
    clearTimeout(newTimer);
    newTimer = setTimeout(() => {
      $("#board-announce").textContent = t("board-new", { n: newCount });
      newCount = 0;
    }, 1500);
  }

  // --- writing -----------------------------------------------------------------------------------------------------

  const composer = $("#board-composer");
  const bodyField = $("#board-body");
  const status = $("#board-status");
  const say = (message) => (status.textContent = message || "");
  const length = (text) => Array.from(text).length;
  let itemTouched = false;

  function count() {
    const n = length(bodyField.value.replace(/\r\n/g, "\n").trim());
    const counter = $("#board-body-count");
    setText($(".board-counter-n", counter), String(n));
    counter.classList.toggle("board-counter-over", n > LIMIT);
  }
  bodyField.addEventListener("input", count);
  $("#board-item").addEventListener("change", () => (itemTouched = true));

  /** Post through the queue: offline it waits, shown as sending, and goes with its cid when we are back. */
  function post(fields, answer) {
    const text = fields.body.replace(/\r\n/g, "\n").trim();
    if (!text) return say(t("refused-empty")), false;
    if (length(text) > LIMIT) return say(t("board-too-long", { limit: LIMIT })), false;
    fields.body = text;
    say(live.socket.connected ? "" : t("board-queued"));
    act("board.post", fields, (ack) => {
      if (ack.ok) {
        say(state.settings.premoderation && !moderator ? t("board-held") : t("board-posted"));
        return false;
      }
      if (answer) answer(text);
      say(ack.error.message);
      return true;
    });
    return true;
  }

  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const fields = { body: bodyField.value };
    if ($("#board-item").value) fields.item_id = Number($("#board-item").value);
    const sent = post(fields, (text) => bodyField.value || ((bodyField.value = text), count()));
    if (sent) {
      bodyField.value = "";
      count();
    }
  });

  function fillItemChoices(agenda) {
    [$("#board-item"), $("#board-filter")].forEach((select) => {
      const value = select.value;
      const fixed = select.id === "board-item" ? 1 : 2; // "general" (and "everything") stay
      while (select.options.length > fixed) select.remove(fixed);
      agenda.forEach((item) => select.add(new Option(item.title, String(item.id))));
      select.value = Array.from(select.options).some((o) => o.value === value) ? value : select.options[0].value;
    });
    view.filter = $("#board-filter").value;
  }

  $("#board-sort").addEventListener("change", (e) => {
    view.sort = e.target.value;
    redraw.all = true;
    schedule();
  });
  $("#board-filter").addEventListener("change", (e) => {
    view.filter = e.target.value;
    redraw.all = true;
    schedule();
  });

  /** The reply and edit forms: one at a time, under the contribution they are about. */
  function openWrite(kind, holder, id) {
    closeWrite();
    const form = document.getElementById("tpl-write").content.firstElementChild.cloneNode(true);
    const texts = document.getElementById("tpl-write-text").dataset;
    const field = $("textarea", form);
    field.id = "write-" + kind + "-" + id;
    const label = $("label", form);
    label.htmlFor = field.id;
    label.textContent = kind === "reply" ? texts.reply : texts.edit;
    $(".board-write-send", form).textContent = kind === "reply" ? texts.sendReply : texts.sendEdit;
    if (kind === "edit") {
      const c = state.mine.get(id) || state.items.get(id);
      field.value = c ? toMarkdown(c.body_html || "") : "";
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (kind === "reply") {
        if (!post({ body: field.value, parent_id: id })) return;
      } else {
        const text = field.value.replace(/\r\n/g, "\n").trim();
        if (!text || length(text) > LIMIT) return ($(".board-status", form).textContent = t(text ? "board-too-long" : "refused-empty", { limit: LIMIT }));
        act("board.edit", { id: id, body: text }, (ack) => (ack.ok ? false : (say(ack.error.message), true)));
      }
      closeWrite(holder.querySelector("[data-board='" + kind + "']"));
    });
    const anchor = holder.querySelector(".contrib-actions, .actions");
    anchor.after(form);
    field.focus();
  }

  function closeWrite(focusAfter) {
    $$(".board-write").forEach((form) => form.remove());
    if (focusAfter) focusAfter.focus();
    redraw.mine = true;
    schedule();
  }

  /** Back from the rendered HTML to the Markdown the author wrote (the server sends no source). */
  function toMarkdown(html) {
    const template = document.createElement("template"); // inert: nothing in it loads or runs
    template.innerHTML = html;
    const walk = (node) =>
      Array.from(node.childNodes)
        .map((n) => {
          if (n.nodeType === Node.TEXT_NODE) {
            const prev = n.previousSibling;
            return prev && prev.nodeName === "BR" ? n.textContent.replace(/^\n/, "") : n.textContent;
          }
          const inner = walk(n);
          const items = (prefix) => Array.from(n.children).map((li, i) => prefix(i) + walk(li).trim());
          switch (n.nodeName) {
            case "EM": return "*" + inner + "*";
            case "STRONG": return "**" + inner + "**";
            case "CODE": return "`" + inner + "`";
            case "A": return "[" + inner + "](" + (n.getAttribute("href") || "") + ")";
            case "BR": return "\n";
            case "P": return inner + "\n\n";
            case "UL": return items(() => "- ").join("\n") + "\n\n";
            case "OL": {
              const start = Number(n.getAttribute("start") || 1);
              return items((i) => start + i + ". ").join("\n") + "\n\n";
            }
            default: return inner;
          }
        })
        .join("");
    return walk(template.content).replace(/\n{3,}/g, "\n\n").trim();
  }

  // --- buttons -----------------------------------------------------------------------------------------------------

  root.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-board]");
    if (!button) return;
    const what = button.dataset.board;
    const holder = button.closest("[data-contribution]");
    const id = holder ? Number(holder.dataset.contribution) : null;
    const moderate = (action, extra) => act("board.moderate", Object.assign({ id: id, action: action }, extra));
    switch (what) {
      case "vote":
        act("board.vote", { id: id, support: !state.votes.has(id) });
        state.votes.has(id) ? state.votes.delete(id) : state.votes.add(id); // until `personal` confirms
        dirty.add(id);
        return schedule();
      case "reply":
      case "edit":
        return openWrite(what, holder, id);
      case "cancel": {
        const reject = button.closest(".board-reject");
        if (reject) {
          reject.hidden = true;
          return $("[data-board='reject']", holder).focus();
        }
        return closeWrite(holder && holder.querySelector("[data-board='reply'], [data-board='edit']"));
      }
      case "withdraw":
        if (window.confirm(t("board-confirm-withdraw"))) act("board.withdraw", { id: id });
        return;
      case "approve":
        return moderate("approve");
      case "reject": {
        const form = $(".board-reject", holder);
        form.hidden = false;
        return $("input", form).focus();
      }
      case "pin": case "unpin": case "answer": case "unanswer": case "hide": case "restore":
        return moderate(what);
      case "highlight":
        return act("board.highlight", { id: id });
      case "unhighlight":
        return act("board.highlight", {});
      case "mute":
      case "unmute":
        return act("room.mute", { person: button.dataset.person, on: what === "mute" });
      case "remove":
        if (window.confirm(t("people-confirm-remove", { name: button.dataset.name }))) {
          act("room.remove", { person: button.dataset.person });
        }
        return;
      case "readmit":
        return act("room.readmit", { person: button.dataset.person });
      // The speaker queue's buttons are handled in speakers.js, the polls' in polls.js.
    }
  });

  root.addEventListener("submit", (e) => {
    const reject = e.target.closest(".board-reject");
    if (!reject) return;
    e.preventDefault();
    const id = Number(reject.closest("[data-contribution]").dataset.contribution);
    act("board.moderate", { id: id, action: "reject", reason: reject.elements.reason.value.trim() });
  });

  // --- moderators: people and settings -----------------------------------------------------------------------------

  /** A small button for the click handlers (data-board); also used by speakers.js. */
  function smallButton(text, action, data, describedBy) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button button-small button-secondary";
    b.dataset.board = action;
    Object.entries(data).forEach(([k, v]) => (b.dataset[k] = v));
    b.textContent = text;
    if (describedBy) b.setAttribute("aria-describedby", describedBy);
    return b;
  }

  function decoratePerson(li, person) {
    if (!moderator) return;
    const me = live.me();
    if ((me && person.id === me.id) || person.role === "coordinator" || person.role === "moderator") return;
    const muted = state.restrictions.some((r) => r.person === person.id && r.kind === "muted");
    const name = li.querySelector("bdi");
    name.id = "person-" + person.id.replace(":", "-");
    if (muted) {
      const tag = document.createElement("span");
      tag.className = "people-state";
      tag.textContent = t("people-muted");
      li.append(" ", tag);
    }
    const actions = document.createElement("span");
    actions.className = "actions people-actions";
    actions.append(
      smallButton(t(muted ? "people-unmute" : "people-mute"), muted ? "unmute" : "mute", { person: person.id }, name.id),
      smallButton(t("people-remove"), "remove", { person: person.id, name: person.name }, name.id),
    );
    li.appendChild(actions);
  }

  function drawRestrictions() {
    const list = $("#restrictions-list");
    list.textContent = "";
    state.restrictions.forEach((r) => {
      const li = document.createElement("li");
      const name = document.createElement("bdi");
      name.id = "restricted-" + r.kind + "-" + r.person.replace(":", "-");
      name.textContent = r.name;
      const kind = document.createElement("span");
      kind.className = "muted";
      kind.textContent = t("people-" + r.kind);
      const undo = r.kind === "muted" ? ["people-unmute", "unmute"] : ["people-readmit", "readmit"];
      li.append(name, " ", kind, smallButton(t(undo[0]), undo[1], { person: r.person }, name.id));
      list.appendChild(li);
    });
    $("#restrictions-empty").hidden = state.restrictions.length > 0;
  }

  const settingsForm = document.getElementById("board-settings");
  const FLAGS = ["premoderation", "locked", "non_attribution", "alternate_sides", "new_speakers_first"];
  function fillSettings() {
    if (!settingsForm || settingsForm.contains(document.activeElement)) return; // not while someone edits it
    const s = state.settings;
    FLAGS.forEach((name) => settingsForm.elements[name] && (settingsForm.elements[name].checked = Boolean(s[name])));
    settingsForm.elements.slow_mode_seconds.value = s.slow_mode_seconds || "";
    settingsForm.elements.speaker_seconds.value = s.speaker_seconds || "";
  }
  if (settingsForm) {
    settingsForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const fields = {};
      FLAGS.forEach((name) => settingsForm.elements[name] && (fields[name] = settingsForm.elements[name].checked));
      const seconds = (name) => Math.min(3600, Math.max(0, Math.floor(Number(settingsForm.elements[name].value) || 0)));
      fields.slow_mode_seconds = seconds("slow_mode_seconds");
      fields.speaker_seconds = seconds("speaker_seconds");
      act("board.settings", fields);
    });
  }

  // Shared with speakers.js and polls.js, which load after this file.
  window.BarazaBoard = { state, redraw, parts, schedule, $, $$, setText, show, reconcile, smallButton };

  count();
  redraw.mine = true; // posts still queued from an earlier visit, even before the connection is up
  schedule();
})();