// The Compare page: choose machine A, machine B and a configuration among the pairs computed at
// build time (bench/report/pairs.py), show that table, and keep the choice in the address
// (?a=SLUG&b=SLUG&config=ID) so a comparison can be linked. Text from results files is set with
// textContent only, never as markup. Without JavaScript the page shows every pair in one table.
(function () {
  "use strict";

  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  function fill(select, values, textOf, wanted) {
    select.replaceChildren();
    values.forEach((v) => option(select, v, textOf(v)));
    select.value = values.includes(wanted) ? wanted : values[0];
  }

  function start() {
    const root = document.getElementById("benchbook-compare");
    const source = document.getElementById("benchbook-pairs");
    if (!root || !source) {
      return;
    }
    const data = JSON.parse(source.textContent);
    const pairs = data.pairs;
    const firsts = Object.keys(pairs).sort();
    if (firsts.length === 0) {
      return; // nothing to pick: the full table says so
    }
    const form = root.querySelector("form");
    const a = form.elements.a;
    const b = form.elements.b;
    const config = form.elements.config;
    const body = root.querySelector("tbody");
    const heading = root.querySelector(".benchbook-compare-heading");
    const link = root.querySelector(".benchbook-compare-link");
    const machine = (slug) => (data.labels[slug] ? slug + " (" + data.labels[slug] + ")" : slug);
    const described = (id) => data.configs[id] || id;

    function render(wanted) {
      fill(a, firsts, machine, wanted.a);
      fill(b, Object.keys(pairs[a.value]).sort(), machine, wanted.b);
      fill(config, Object.keys(pairs[a.value][b.value]).sort(), described, wanted.config);
      body.replaceChildren();
      pairs[a.value][b.value][config.value].forEach((cells) => {
        const tr = document.createElement("tr");
        cells.forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      heading.textContent =
        "A: " + machine(a.value) + ". B: " + machine(b.value) + ". " + described(config.value) + ".";
      const query = new URLSearchParams({ a: a.value, b: b.value, config: config.value });
      const address = window.location.pathname + "?" + query.toString();
      window.history.replaceState(null, "", address);
      link.href = address;
    }

    const asked = new URLSearchParams(window.location.search);
    render({ a: asked.get("a"), b: asked.get("b"), config: asked.get("config") });
    form.addEventListener("change", () => {
      render({ a: a.value, b: b.value, config: config.value });
    });
    root.hidden = false;
    const all = document.getElementById("benchbook-compare-all");
    if (all) {
      all.hidden = true;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
