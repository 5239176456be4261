// The web chat's only script. The page works without it; with it:
// - answers are sent in place, and the new question lands in the page's live region and gets focus;
// - text fields count their characters;
// - a kiosk (body[data-idle]) clears itself for the next person after that many idle seconds.
"use strict";

(() => {
  const PARTS = ["top", "log", "controls", "foot"];
  let idleTimer = 0;

  function counters() {
    for (const field of document.querySelectorAll("[data-counter][maxlength]")) {
      const out = document.getElementById(field.dataset.counter);
      if (!out) continue;
      const show = () => { out.textContent = `${field.value.length} / ${field.maxLength}`; };
      field.addEventListener("input", show);
      show();
    }
  }

  function armIdle() {
    window.clearTimeout(idleTimer);
    const seconds = Number(document.body.dataset.idle || 0);
    if (seconds > 0) {
      idleTimer = window.setTimeout(() => {
        const reset = document.querySelector("form[action='/reset']");
        if (reset) reset.submit(); // a full reload: nothing of this person stays in the page
      }, seconds * 1000);
    }
  }

  async function send(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-chat")) return;
    event.preventDefault();
    if (form.dataset.busy) return; // a double tap sends once
    form.dataset.busy = "1";
    try {
      const body = new URLSearchParams(new FormData(form, event.submitter));
      const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!PARTS.every((id) => next.getElementById(id))) throw new Error("not a chat page");
      // The containers stay (the live region must outlive its content); their content is replaced.
      for (const id of PARTS) {
        document.getElementById(id).replaceChildren(...next.getElementById(id).childNodes);
      }
      document.title = next.title;
      document.documentElement.lang = next.documentElement.lang;
      document.body.dataset.idle = next.body.dataset.idle || "0";
      counters();
      armIdle();
      const now = document.getElementById("now");
      if (now) now.focus();
    } catch (error) {
      // Fall back to an ordinary post, keeping the pressed button's value.
      if (event.submitter && event.submitter.name) {
        const pressed = document.createElement("input");
        pressed.type = "hidden";
        pressed.name = event.submitter.name;
        pressed.value = event.submitter.value;
        form.append(pressed);
      }
      form.submit();
    }
  }

  document.addEventListener("submit", send);
  for (const type of ["pointerdown", "keydown", "input", "scroll"]) {
    document.addEventListener(type, armIdle, { passive: true });
  }
  counters();
  armIdle();
})();
