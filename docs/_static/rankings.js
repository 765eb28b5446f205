// The Rankings page: every machine's median seconds per epoch in one workload and configuration,
// with its interval and its rank among all machines of that configuration, and its joules per
// epoch where it has energy counters, to search, filter and sort (fastest, slowest or most
// efficient first: the fewest joules for the same work). The data (compare-data/rankings.json) is written by bench/report/compare_data.py and
// grows linearly with the machines. Text from results files is set with textContent only.
(function () {
  "use strict";

  const SHOWN = 100;

  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  function cell(tr, content) {
    const td = document.createElement("td");
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.appendChild(content);
    }
    tr.appendChild(td);
  }

  function start() {
    const root = document.getElementById("benchbook-rankings");
    if (!root) {
      return;
    }
    const form = root.querySelector("form");
    const f = form.elements;
    const body = root.querySelector("tbody");
    const status = root.querySelector(".benchbook-rankings-status");
    let data = null;

    function rows() {
      const c = data.columns;
      return data.rows.map((r) => Object.fromEntries(c.map((name, i) => [name, r[i]])));
    }

    function fillConfigs(all) {
      const counts = new Map();
      all.filter((r) => r.workload === f.workload.value).forEach((r) => {
        counts.set(r.config, (counts.get(r.config) || 0) + 1);
      });
      const ids = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a));
      const wanted = f.config.value;
      f.config.replaceChildren();
      ids.forEach((id) => option(f.config, id, (data.configs[id] || id) + " (" + counts.get(id) +
        " machines)"));
      if (ids.includes(wanted)) {
        f.config.value = wanted;
      }
    }

    function render(all) {
      const text = f.search.value.trim().toLowerCase();
      const chosen = all.filter((r) =>
        r.workload === f.workload.value &&
        r.config === f.config.value &&
        (!f.family.value || r.family === f.family.value) &&
        (!f.os.value || r.os === f.os.value) &&
        (!f.accelerator.value || r.accelerator === f.accelerator.value) &&
        (!text || (r.machine + " " + (data.labels[r.machine] || "")).toLowerCase().includes(text))
      );
      const order = f.order.value;
      const efficient = order === "efficient";
      if (efficient) {
        // Machines with counters by joules per epoch; those without after them, fastest first.
        chosen.sort((a, b) => (a.median_j === null) - (b.median_j === null) ||
          (a.median_j - b.median_j) || (a.median_s - b.median_s) ||
          a.machine.localeCompare(b.machine));
      } else {
        chosen.sort((a, b) => (order === "slowest" ? -1 : 1) * (a.median_s - b.median_s) ||
          a.machine.localeCompare(b.machine));
      }
      body.replaceChildren();
      chosen.slice(0, SHOWN).forEach((r) => {
        const tr = document.createElement("tr");
        if (efficient) {
          cell(tr, r.rank_j === null ? "no counters" : r.rank_j + " of " + r.of_j);
        } else {
          cell(tr, r.rank + " of " + r.of);
        }
        const link = document.createElement("a");
        link.href = "machines/" + encodeURIComponent(r.machine) + ".html";
        link.textContent = r.machine;
        cell(tr, link);
        cell(tr, data.labels[r.machine] || "");
        cell(tr, r.family);
        cell(tr, r.median_s.toPrecision(3) + " s (" + r.low_s.toPrecision(3) + " to " +
          r.high_s.toPrecision(3) + ")");
        cell(tr, r.median_j === null ? "not measured" : r.median_j.toPrecision(3) + " J (" +
          r.low_j.toPrecision(3) + " to " + r.high_j.toPrecision(3) + ")");
        cell(tr, r.weights);
        cell(tr, r.accelerator);
        cell(tr, r.os);
        body.appendChild(tr);
      });
      const inConfig = all.filter((r) => r.workload === f.workload.value &&
        r.config === f.config.value);
      const counted = inConfig.filter((r) => r.median_j !== null).length;
      status.textContent = "Showing " + Math.min(chosen.length, SHOWN) + " of " + chosen.length +
        " matching machines (" + inConfig.length + " in this configuration, " + counted +
        " with energy counters).";
    }

    fetch(root.dataset.source)
      .then((r) => {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then((loaded) => {
        data = loaded;
        const all = rows();
        const present = new Set(all.map((r) => r.workload));
        data.workloads.filter(([w]) => present.has(w)).forEach(([w, title]) =>
          option(f.workload, w, title));
        [["family", "every family"], ["os", "every system"], ["accelerator", "CPU or GPU"]]
          .forEach(([name, everything]) => {
            option(f[name], "", everything);
            [...new Set(all.map((r) => r[name]))].sort().forEach((v) => option(f[name], v, v));
          });
        fillConfigs(all);
        form.addEventListener("input", (event) => {
          if (event.target === f.workload) {
            fillConfigs(all);
          }
          render(all);
        });
        form.addEventListener("submit", (event) => event.preventDefault());
        root.hidden = false;
        if (all.length === 0) {
          status.textContent = "No finished training runs yet.";
          return;
        }
        render(all);
      })
      .catch((error) => {
        root.hidden = false;
        status.textContent = "Could not load the rankings (" + error.message + ").";
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
