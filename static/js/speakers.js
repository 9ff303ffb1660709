// The speaker queue of the live room (docs/realtime-protocol.md, "The board"): raised hands, who has the floor and
// for how long, and for moderators the speaking time by side, country and gender. board.js shares the state and
// draws once per batch of changes (window.BarazaBoard); this module keeps the speakers' part and draws it.
(function () {
  "use strict";
  const live = window.BarazaLive;
  const board = window.BarazaBoard;
  const root = document.getElementById("live");
  if (!live || !board || !root) return;

  const { act, t, moderator } = live;
  const { state, redraw, schedule, $, setText, show, smallButton } = board;
  const lang = document.documentElement.lang || undefined;
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

  state.speakers = { speaking: null, waiting: [] };
  state.hand = null; // my own turn, if I raised my hand
  state.stats = null; // moderators only

  // --- following the room ------------------------------------------------------------------------------------------

  live.on("snapshot", (s) => {
    state.speakers = s.speakers || { speaking: null, waiting: [] };
    if (s.speaker_stats) state.stats = s.speaker_stats;
    schedule(); // board.js marks every part for redrawing
  });

  live.on("event", (event) => {
    const data = event.data || {};
    if (event.type === "speakers") {
      state.speakers = { speaking: data.speaking || null, waiting: data.waiting || [] };
      redraw.speakers = true;
    } else if (event.type === "speakers.stats") {
      state.stats = data.stats;
      redraw.stats = true;
    }
    schedule();
  });

  function applyPersonal(p) {
    if ("hand" in p) state.hand = p.hand || null; // `personal` carries only the parts that changed
    redraw.speakers = true; // my hand, and whether I am muted
  }

  live.on("caughtUp", (body) => {
    if (body.personal) applyPersonal(body.personal);
    schedule();
  });

  live.socket.on("personal", (body) => {
    applyPersonal(body);
    schedule();
  });

  // --- drawing -----------------------------------------------------------------------------------------------------

  let speakerSeen; // undefined until the first drawing: no announcement for the state we arrive in
  function drawSpeakers() {
    const { speaking, waiting } = state.speakers;
    const me = live.me();
    const isLive = live.room.status === "live";
    show($("#speaker-now"), Boolean(speaking));
    show($("#speaker-none"), !speaking);
    setText($("#speaker-name"), speaking ? speaking.name : "");
    tickSpeaker();
    const next = $("#speaker-next");
    show(next, waiting.length > 0);
    setText($("bdi", next), waiting.length ? waiting[0].name : "");
    const fragment = document.createDocumentFragment();
    waiting.forEach((turn) => {
      const li = document.createElement("li");
      li.dataset.turn = turn.id;
      const name = document.createElement("bdi");
      name.id = "turn-" + turn.id;
      name.textContent = turn.name;
      li.appendChild(name);
      if (me && turn.person === me.id) li.append(" (" + t("you") + ")");
      if (turn.side && t("side-" + turn.side)) {
        const side = document.createElement("span");
        side.className = "muted";
        side.textContent = t("side-" + turn.side);
        li.append(" ", side);
      }
      if (moderator) {
        const actions = document.createElement("span");
        actions.className = "actions";
        actions.append(
          smallButton(t("give-floor"), "floor-give", { turn: turn.id }, name.id),
          smallButton(t("hand-lower"), "hand-lower", { turn: turn.id }, name.id),
        );
        li.appendChild(actions);
      }
      fragment.appendChild(li);
    });
    const list = $("#speaker-waiting");
    list.textContent = "";
    list.appendChild(fragment);

    const hand = $("#hand-button");
    const mineNow = state.hand && state.hand.status === "speaking";
    setText(hand, t(mineNow ? "hand-end" : state.hand ? "hand-lower" : "hand-raise"));
    hand.dataset.state = state.hand ? state.hand.status : "none";
    hand.disabled = !state.hand && (state.muted || !isLive);
    $("#hand-muted").hidden = !state.muted;
    if (state.muted) hand.setAttribute("aria-describedby", "hand-muted"); // a hidden description would still be read
    else hand.removeAttribute("aria-describedby");
    if (moderator) {
      $("[data-board='floor-next']").hidden = !isLive || !waiting.length;
      $("[data-board='floor-end']").hidden = !speaking;
    }
    const who = speaking ? speaking.id : null;
    if (speakerSeen !== undefined && who !== speakerSeen) {
      $("#speakers-announce").textContent = speaking ? t("floor-to", { name: speaking.name }) : t("floor-free");
    }
    speakerSeen = who;
  }

  function tickSpeaker() {
    const speaking = state.speakers.speaking;
    const box = $("#speaker-countdown");
    const endsAt = speaking && speaking.ends_at;
    show(box, Boolean(endsAt));
    if (!endsAt) return;
    const left = (live.parseTime(endsAt) - live.now()) / 1000;
    setText(box, live.clock(left));
    box.classList.toggle("speaker-over", left <= 0);
  }
  setInterval(tickSpeaker, 1000); // only the countdown's text, and only when it changes

  // Moderators: speaking time so far, by side, country and gender.
  function drawStats() {
    const body = $("#speaker-stats-body");
    body.textContent = "";
    const stats = state.stats;
    $("#speaker-stats-empty").hidden = Boolean(stats && stats.total && stats.total.turns);
    if (!stats) return;
    const template = document.getElementById("tpl-stats");
    const minutes = (seconds) => number.format(seconds / 60);
    const label = {
      side: (key) => t("side-" + key) || key,
      country: (key) => t("country-" + key) || key,
      gender: (key) => key,
    };
    ["side", "country", "gender"].forEach((group) => {
      const rows = Object.entries(stats["by_" + group] || {});
      if (!rows.length) return;
      const table = template.content.firstElementChild.cloneNode(true);
      $("caption", table).textContent = t("stats-" + group);
      const tbody = $("tbody", table);
      const add = (name, value) => {
        const tr = tbody.insertRow();
        const th = document.createElement("th");
        th.scope = "row";
        const bdi = document.createElement("bdi");
        bdi.textContent = name;
        th.appendChild(bdi);
        tr.appendChild(th);
        tr.insertCell().textContent = number.format(value.turns);
        tr.insertCell().textContent = minutes(value.seconds);
      };
      rows.forEach(([key, value]) => add(key ? label[group](key) : t("stats-unknown"), value));
      if (stats.total) add(t("stats-total"), stats.total);
      body.appendChild(table);
    });
  }

  board.parts.speakers = drawSpeakers;
  if (moderator) board.parts.stats = drawStats;

  // --- buttons -----------------------------------------------------------------------------------------------------

  root.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-board]");
    if (!button) return;
    switch (button.dataset.board) {
      case "hand":
        return act(state.hand ? "hand.lower" : "hand.raise", {});
      case "floor-next":
        return act("floor.give", {});
      case "floor-end":
        return act("floor.end", {});
      case "floor-give":
        return act("floor.give", { turn_id: Number(button.dataset.turn) });
      case "hand-lower":
        return act("hand.lower", { turn_id: Number(button.dataset.turn) });
    }
  });
})();
