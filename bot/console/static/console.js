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
      only.colSpan = 3;
      row.appendChild(only);
    }
    rows.forEach(function (item) { fresh.appendChild(make(item)); });
    table.replaceChild(fresh, body);
  }

  function counted(item) {
    const row = document.createElement("tr");
    row.append(cell("th", item.label), cell("td", item.today, "n"), cell("td", item.total, "n"));
    return row;
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
    fill("by_event", f.by_event, counted);
    fill("by_channel", f.by_channel, counted);
    fill("by_hour", f.by_hour, function (item) {
      const row = document.createElement("tr");
      const meter = document.createElement("meter");
      meter.min = 0;
      meter.max = f.hour_max;
      meter.value = item.today;
      meter.textContent = String(item.today);
      meter.setAttribute("aria-label", item.label + ": " + item.today);
      const bar = document.createElement("td");
      bar.appendChild(meter);
      row.append(cell("th", item.label), cell("td", item.today, "n"), bar);
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
        if (response.redirected || !response.ok) throw new Error("signed out");
        return response.json();
      })
      .then(show)
      .catch(function () { /* signed out or offline: the next poll tries again */ });
  }

  window.setInterval(poll, 5000);
})();
