// Quick polls in the live room (docs/realtime-protocol.md, "The board"): answering them, their results, and for
// moderators creating, opening, closing and deleting them. board.js shares the state and draws once per batch of
// changes (window.BarazaBoard); this module keeps the polls' part and draws it.
(function () {
  "use strict";
  const live = window.BarazaLive;
  const board = window.BarazaBoard;
  const root = document.getElementById("live");
  if (!live || !board || !root) return;

  const { act, t, moderator } = live;
  const { state, redraw, schedule, $, $$, setText, show, reconcile } = board;

  state.polls = new Map();
  state.answered = new Map(); // poll id -> my choices (null for anonymous polls)

  // --- following the room ------------------------------------------------------------------------------------------

  live.on("event", (event) => {
    const data = event.data || {};
    if (event.type === "poll" && data.poll) mergePoll(data.poll);
    schedule();
  });

  live.on("caughtUp", (body) => {
    if (body.personal) applyPersonal(body.personal);
    if (Array.isArray(body.polls)) {
      const ids = new Set(body.polls.map((p) => p.id));
      Array.from(state.polls.keys()).forEach((id) => ids.has(id) || state.polls.delete(id));
      body.polls.forEach((p) => state.polls.set(p.id, p));
      redraw.polls = true;
    }
    schedule();
  });

  live.socket.on("personal", (body) => {
    applyPersonal(body);
    schedule();
  });

  live.socket.on("poll.results", (body) => {
    const poll = state.polls.get(body.id);
    if (!poll) return;
    poll.results = { counts: body.counts, voters: body.voters };
    redraw.polls = true;
    schedule();
  });

  function applyPersonal(p) {
    if (!("polls" in p)) return; // `personal` carries only the parts that changed
    state.answered = new Map((p.polls || []).map((a) => [a.id, a.choices || null]));
    redraw.polls = true;
  }

  function mergePoll(patch) {
    if (patch.deleted) state.polls.delete(patch.id);
    else state.polls.set(patch.id, Object.assign(state.polls.get(patch.id) || {}, patch));
    redraw.polls = true;
  }

  // --- drawing -----------------------------------------------------------------------------------------------------

  const pollElements = new Map();
  const pollOrder = { open: 0, draft: 1, closed: 2 };
  function drawPolls() {
    const polls = Array.from(state.polls.values()).sort(
      (a, b) => (pollOrder[a.status] ?? 3) - (pollOrder[b.status] ?? 3) || b.id - a.id,
    );
    Array.from(pollElements.keys()).forEach((id) => state.polls.has(id) || pollElements.delete(id));
    reconcile($("#poll-list"), polls.map((p) => fillPoll(pollElement(p), p)));
    if (!moderator) $("#polls").hidden = polls.length === 0;
  }
  board.parts.polls = drawPolls;

  function pollElement(p) {
    let li = pollElements.get(p.id);
    if (li && li._choices === JSON.stringify([p.choices, p.multiple])) return li;
    if (!li) {
      li = document.getElementById("tpl-poll").content.firstElementChild.cloneNode(true);
      $(".poll-form", li).addEventListener("submit", (e) => {
        e.preventDefault();
        answerPoll(li, Number(li.dataset.poll));
      });
    }
    li._choices = JSON.stringify([p.choices, p.multiple]);
    li.dataset.poll = p.id;
    const question = $(".poll-question", li);
    question.id = "poll-" + p.id + "-question";
    $$(".actions button", li).forEach((b) => b.setAttribute("aria-describedby", question.id));
    const box = $(".poll-choices", li);
    box.textContent = "";
    (p.choices || []).forEach((text, i) => {
      const label = document.createElement("label");
      label.className = "check poll-choice";
      const input = document.createElement("input");
      input.type = p.multiple ? "checkbox" : "radio";
      input.name = "choice";
      input.value = String(i);
      const bdi = document.createElement("bdi");
      bdi.textContent = text;
      label.append(input, " ", bdi);
      box.appendChild(label);
    });
    pollElements.set(p.id, li);
    return li;
  }

  function fillPoll(li, p) {
    const answered = state.answered.has(p.id);
    const sending = li._sending && !answered;
    setText($(".poll-question bdi", li), p.question || "");
    const meta = [t("poll-status-" + p.status), t(p.multiple ? "poll-multiple" : "poll-single"),
      t(p.anonymous ? "poll-anonymous" : "poll-named")];
    setText($(".poll-meta", li), meta.filter(Boolean).join(" · "));
    const canAnswer = p.status === "open" && !answered && !sending;
    const mine = state.answered.get(p.id);
    $$("input", $(".poll-choices", li)).forEach((input) => {
      input.disabled = !canAnswer;
      if (mine) input.checked = mine.includes(Number(input.value));
    });
    show($(".poll-submit", li), canAnswer);
    show($(".poll-done", li), answered);
    show($(".poll-choices", li), p.status !== "closed" || !p.results);
    const results = $(".poll-results", li);
    show(results, Boolean(p.results));
    if (p.results) drawResults(results, p);
    li.dataset.status = p.status;
    if (moderator) {
      show($("[data-board='poll-open']", li), p.status === "draft");
      show($("[data-board='poll-close']", li), p.status === "open");
      show($("[data-board='poll-delete']", li), p.status === "draft");
    }
    return li;
  }

  function drawResults(box, p) {
    const { counts = [], voters = 0 } = p.results;
    const list = $(".poll-bars", box);
    const fragment = document.createDocumentFragment();
    (p.choices || []).forEach((text, i) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.id = "poll-" + p.id + "-result-" + i;
      label.className = "poll-bar-label";
      const bdi = document.createElement("bdi");
      bdi.textContent = text;
      label.appendChild(bdi);
      const meter = document.createElement("meter"); // a width without a style attribute (the CSP forbids those)
      meter.min = 0;
      meter.max = Math.max(voters, 1);
      meter.value = counts[i] || 0;
      meter.setAttribute("aria-labelledby", label.id);
      const figure = document.createElement("span");
      figure.className = "poll-bar-count";
      const percent = voters ? Math.round(((counts[i] || 0) * 100) / voters) : 0;
      figure.textContent = t("poll-result", { count: counts[i] || 0, percent: percent });
      li.append(label, meter, figure);
      fragment.appendChild(li);
    });
    list.textContent = "";
    list.appendChild(fragment);
    setText($(".poll-voters", box), t("poll-voters", { n: voters }));
  }

  // --- answering and creating --------------------------------------------------------------------------------------

  function answerPoll(li, pollId) {
    const choices = $$("input:checked", li).map((input) => Number(input.value));
    const line = $(".poll-form .board-status", li);
    if (!choices.length) return (line.textContent = t("refused-empty"));
    line.textContent = "";
    li._sending = true;
    act("poll.answer", { poll_id: pollId, choices: choices }, (ack) => {
      li._sending = false;
      const poll = state.polls.get(pollId);
      if (ack.ok || (ack.error && ack.error.code === "already_answered")) {
        if (!state.answered.has(pollId)) state.answered.set(pollId, choices);
        if (poll && ack.results) poll.results = ack.results;
      }
      if (!ack.ok) line.textContent = ack.error.message;
      redraw.polls = true;
      schedule();
      return !ack.ok;
    });
    redraw.polls = true;
    schedule();
  }

  const pollForm = document.getElementById("poll-create");
  if (pollForm) {
    pollForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const line = $("#poll-create-status");
      const choices = $$("input[name=choice]", pollForm).map((i) => i.value.trim()).filter(Boolean);
      const question = pollForm.elements.question.value.trim();
      if (!question) return (line.textContent = t("refused-empty"));
      if (choices.length < 2 || choices.length > 10) return (line.textContent = t("refused-poll_choices"));
      line.textContent = "";
      const fields = {
        question: question,
        choices: choices,
        multiple: pollForm.elements.multiple.value === "1",
        anonymous: pollForm.elements.anonymous.checked,
        show_results: pollForm.elements.show_results.value,
        open: !e.submitter || e.submitter.value === "1",
      };
      act("poll.create", fields, (ack) => {
        if (!ack.ok) return (line.textContent = ack.error.message), true;
        return false;
      });
      pollForm.reset();
      $$(".poll-choice-field", pollForm).forEach((f, i) => (f.hidden = i >= 3));
      $("[data-board='poll-more']", pollForm).hidden = false;
    });
  }

  // --- buttons -----------------------------------------------------------------------------------------------------

  root.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-board]");
    if (!button) return;
    const what = button.dataset.board;
    const poll = button.closest("[data-poll]");
    const pollId = poll ? Number(poll.dataset.poll) : null;
    switch (what) {
      case "poll-open":
      case "poll-close":
        return act(what.replace("-", "."), { poll_id: pollId });
      case "poll-delete":
        if (window.confirm(t("poll-confirm-delete"))) act("poll.delete", { poll_id: pollId });
        return;
      case "poll-more": {
        const next = $$(".poll-choice-field").find((f) => f.hidden);
        if (next) {
          next.hidden = false;
          $("input", next).focus();
        }
        button.hidden = !$$(".poll-choice-field").some((f) => f.hidden);
        return;
      }
    }
  });
})();
