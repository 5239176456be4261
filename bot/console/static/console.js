// The staff console's dashboard: fetches its figures every 5 seconds and updates the numbers in place.
"use strict";
(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const source = root.dataset.source;
  const updated = document.getElementById("updated-template").innerHTML;

  function cell(tag, text, className) {
    const element = document.createElement(tag);
    element.textContent = String(text);
    if (className) element.className = className;
    if (tag === "th") element.scope = "row";
    return element;
  }

  function fill(name, rows, make) {
    const table = root.querySelector('[data-table="' + name + '"]');
    if (!table) return;
    const body = table.tBodies[0];
    const fresh = document.createElement("tbody");
    if (!rows.length && table.dataset.none) {
      const row = fresh.insertRow();
      const only = cell("td", table.dataset.none);
      only.colSpan = table.tHead.rows[0].cells.length;
      row.appendChild(only);
    }
    rows.forEach(function (item) { fresh.appendChild(make(item)); });
    table.replaceChild(fresh, body);
  }

  function meter(value, max, label) {
    const bar = document.createElement("td");
    const element = document.createElement("meter");
    element.min = 0;
    element.max = max;
    element.value = value;
    element.textContent = String(value);
    element.setAttribute("aria-label", label + ": " + value);
    bar.appendChild(element);
    return bar;
  }

  function counted(rows) {
    const top = Math.max.apply(null, [1].concat(rows.map(function (item) { return item.total; })));
    return function (item) {
      const row = document.createElement("tr");
      row.append(
        cell("th", item.label), cell("td", item.today, "n"), cell("td", item.total, "n"),
        meter(item.total, top, item.label)
      );
      return row;
    };
  }

  function show(f) {
    const set = function (key, value) {
      const element = root.querySelector('[data-figure="' + key + '"]');
      if (element && element.textContent !== String(value)) element.textContent = String(value);
    };
    set("today", f.today);
    set("total", f.total);
    set("started", f.started);
    set("completion_rate", f.completion_rate);
    set("updated-line", updated.replace("{time}", f.updated));
    fill("by_event", f.by_event, counted(f.by_event));
    fill("by_channel", f.by_channel, counted(f.by_channel));
    fill("by_hour", f.by_hour, function (item) {
      const row = document.createElement("tr");
      row.append(cell("th", item.label), cell("td", item.today, "n"), meter(item.today, f.hour_max, item.label));
      return row;
    });
    fill("missing", f.missing, function (item) {
      const row = document.createElement("tr");
      row.append(cell("th", item.label), cell("td", item.respondents, "n"), cell("td", item.expected, "n"));
      return row;
    });
    const state = root.querySelector('[data-state="missing"]');
    const table = root.querySelector('[data-table="missing"]');
    if (state && table) {
      table.hidden = f.missing_state !== "shown";
      state.hidden = f.missing_state === "shown";
      if (!state.hidden) state.textContent = state.dataset[f.missing_state] || "";
    }
  }

  function poll() {
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/login") !== -1) {
          // The session ended: the sign-in form says so, and leads back to this page, not to the figures.
          const login = new URL(response.url);
          login.searchParams.set("next", window.location.pathname + window.location.search);
          window.location.assign(login.toString());
        }
        if (response.redirected || !response.ok) throw new Error("signed out");
        return response.json();
      })
      .then(show)
      .catch(function () { /* signed out or offline: the next poll tries again */ });
  }

  window.setInterval(poll, 5000);
})();
