// The Compare page: find machine A and machine B by typing part of a name, pick a configuration
// they share, and see the table `nox -s compare` would print for them. The page fetches a small
// index and the two machines' files (compare-data/, written by bench/report/compare_data.py), then
// computes each ratio's interval as the same percentiles of the same elementwise ratios of the
// stored bootstrap resamples as bench/stats.py, worded as bench.stats.verdict words it. The
// choice is kept in the address (?a=SLUG&b=SLUG&config=ID) so a comparison can be linked. Text
// from results files is set with textContent only, never as markup.
(function () {
  "use strict";

  const SCORES_ONLY = "scores";

  // --- The computation (bench/report/compare_data.py and bench/stats.py, step by step) ---------

  function decode(entry) {
    const count = entry.count;
    const bits = entry.bits;
    const values = entry.values;
    const out = new Float64Array(count);
    if (bits === 0) {
      out.fill(values[0]);
      return out;
    }
    const text = atob(entry.picks);
    const raw = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      raw[i] = text.charCodeAt(i);
    }
    if (bits === 16) {
      for (let i = 0; i < count; i++) {
        out[i] = values[raw[2 * i] | (raw[2 * i + 1] << 8)];
      }
      return out;
    }
    const per = 8 / bits;
    const mask = (1 << bits) - 1;
    for (let i = 0; i < count; i++) {
      const byte = raw[Math.floor(i / per)];
      out[i] = values[(byte >> ((i % per) * bits)) & mask];
    }
    return out;
  }

  function percentile(ordered, q) {
    const h = (ordered.length - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, ordered.length - 1);
    const below = ordered[lo];
    const above = ordered[hi];
    if (below === above) {
      return below;
    }
    return below + (above - below) * (h - lo);
  }

  function ratio(base, other) {
    const a = decode(base);
    const b = decode(other);
    const ratios = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      ratios[i] = a[i] / b[i];
    }
    ratios.sort();
    const confidence = 0.95;
    const tail = (1 - confidence) / 2;
    return {
      value: base.median / other.median,
      low: percentile(ratios, tail),
      high: percentile(ratios, 1 - tail),
    };
  }

  // Python's format(x, ".Nf"): the exact binary value rounded, ties to even (JavaScript's
  // toFixed breaks ties upwards). A tie at N decimals is exactly an odd multiple of 2^-(N+1).
  function fixed(x, digits) {
    if (x === Infinity) {
      return "inf";
    }
    const half = Math.pow(2, digits + 1);
    if (Number.isInteger(x * half) && !Number.isInteger(x * (half / 2))) {
      const scaled = x * Math.pow(10, digits);
      let n = Math.floor(scaled);
      if (n % 2 !== 0) {
        n += 1;
      }
      return (n / Math.pow(10, digits)).toFixed(digits);
    }
    return x.toFixed(digits);
  }

  function inverse(x) {
    return x === 0 ? Infinity : 1 / x;
  }

  function verdict(r, better, worse) {
    better = better || "faster";
    worse = worse || "slower";
    const ci = "95 % CI";
    if ([r.value, r.low, r.high].some(Number.isNaN)) {
      return "no verdict (the ratio could not be computed)";
    }
    if (r.low <= 1 && 1 <= r.high) {
      return (
        "no clear difference (" + fixed(r.value, 2) + "x, " + ci + " " + fixed(r.low, 2) +
        " to " + fixed(r.high, 2) + ")"
      );
    }
    if (r.low > 1) {
      return fixed(r.value, 2) + "x " + better + ", " + ci + " " + fixed(r.low, 2) + " to " +
        fixed(r.high, 2);
    }
    return (
      fixed(inverse(r.value), 2) + "x " + worse + ", " + ci + " " + fixed(inverse(r.high), 2) +
      " to " + fixed(inverse(r.low), 2)
    );
  }

  // bench.stats.energy_verdict: joules per epoch, A's over B's.
  function energyVerdict(r) {
    return verdict(r, "less energy", "more energy");
  }

  function scoreVerdict(a, b) {
    const r = ratio(b, a);
    if (Math.min(a.files, b.files) < 2) {
      const way = r.value >= 1 ? "faster" : "slower";
      const factor = r.value >= 1 ? r.value : inverse(r.value);
      return fixed(factor, 2) + "x " + way + " (a single file on one side: no interval)";
    }
    return verdict(r);
  }

  function pairRows(a, b, config, index) {
    const rows = [];
    if (config !== SCORES_ONLY) {
      const mine = a.configs[config] || {};
      const theirs = b.configs[config] || {};
      index.workloads.forEach(([workload, title]) => {
        if (!(workload in mine) || !(workload in theirs)) {
          return;
        }
        let matched = false;
        let x = null;
        let y = null;
        mine[workload].forEach((first) => {
          x = first;
          theirs[workload].forEach((second) => {
            y = second;
            if (first.weights === second.weights) {
              matched = true;
              let name = title;
              if (mine[workload].length > 1 || theirs[workload].length > 1) {
                name += " (weights " + first.weights + ")";
              }
              rows.push([name, first.text, second.text, verdict(ratio(first, second))]);
              if (first.energy && second.energy) {
                rows.push([name + ", energy per epoch", first.energy.text, second.energy.text,
                  energyVerdict(ratio(first.energy, second.energy))]);
              }
            }
          });
        });
        if (!matched) {
          rows.push([
            title,
            x.text,
            y.text,
            "not compared: VGG-16 weights " +
              mine[workload].map((e) => e.weights).join("/") +
              " vs " +
              theirs[workload].map((e) => e.weights).join("/"),
          ]);
        }
      });
    }
    index.sections.forEach(([section, title]) => {
      const sa = a.scores[section];
      const sb = b.scores[section];
      if (sa && sb) {
        rows.push([title, sa.text, sb.text, scoreVerdict(sa, sb)]);
      }
    });
    return rows;
  }

  function sharedConfigs(a, b) {
    const theirs = new Set(b[2]);
    const shared = a[2].filter((c) => theirs.has(c));
    if (shared.length === 0 && a[3] && b[3]) {
      shared.push(SCORES_ONLY);
    }
    return shared;
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { decode, percentile, ratio, fixed, verdict, energyVerdict, scoreVerdict,
      pairRows, sharedConfigs };
    return;
  }

  // --- The page --------------------------------------------------------------------------

  function option(parent, value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    parent.appendChild(o);
  }

  function start() {
    const root = document.getElementById("benchbook-compare");
    if (!root) {
      return;
    }
    const folder = root.dataset.folder;
    const form = root.querySelector("form");
    const inputA = form.elements.a;
    const inputB = form.elements.b;
    const config = form.elements.config;
    const list = root.querySelector("datalist");
    const body = root.querySelector("tbody");
    const heading = root.querySelector(".benchbook-compare-heading");
    const link = root.querySelector(".benchbook-compare-link");
    const status = root.querySelector(".benchbook-compare-status");
    const cache = new Map();
    let index = null;
    const bySlug = new Map();

    const shown = (m) => (m[1] ? m[0] + " (" + m[1] + ")" : m[0]);

    function find(text) {
      const value = text.trim();
      if (bySlug.has(value)) {
        return bySlug.get(value);
      }
      for (const m of index.machines) {
        if (shown(m) === value) {
          return m;
        }
      }
      const lower = value.toLowerCase();
      const hits = index.machines.filter((m) => shown(m).toLowerCase().includes(lower));
      return hits.length === 1 ? hits[0] : null;
    }

    function load(path) {
      if (!cache.has(path)) {
        cache.set(
          path,
          fetch(folder + path).then((r) => {
            if (!r.ok) {
              throw new Error("HTTP " + r.status);
            }
            return r.json();
          })
        );
      }
      return cache.get(path);
    }

    // A machine as bench/report/compare_data.read assembles it: its head (label, scores) with
    // the picked configuration's workloads.
    async function machineFile(slug, chosen) {
      const name = encodeURIComponent(slug);
      const head = await load("m/" + name + ".json");
      const configs = {};
      if (chosen !== SCORES_ONLY && head.configs.includes(chosen)) {
        configs[chosen] = await load("c/" + name + "/" + encodeURIComponent(chosen) + ".json");
      }
      return Object.assign({}, head, { configs: configs });
    }

    function say(text) {
      status.textContent = text;
    }

    let turn = 0;
    async function render(wantedConfig) {
      const mine = ++turn;
      const a = find(inputA.value);
      const b = find(inputB.value);
      body.replaceChildren();
      heading.textContent = "";
      if (!a || !b) {
        config.replaceChildren();
        say(
          index.machines.length < 2
            ? "Comparing needs results from two machines; there are not enough yet."
            : "Type part of a machine's name in A and in B, then pick one from the list."
        );
        return;
      }
      inputA.value = a[0];
      inputB.value = b[0];
      const shared = sharedConfigs(a, b);
      config.replaceChildren();
      shared.forEach((c) => option(config, c, index.configs[c] || c));
      if (shared.length === 0) {
        say("These two machines have no comparable runs or scores.");
        return;
      }
      config.value = shared.includes(wantedConfig) ? wantedConfig : shared[0];
      say("Loading " + a[0] + " and " + b[0] + "...");
      let files;
      try {
        files = await Promise.all([
          machineFile(a[0], config.value),
          machineFile(b[0], config.value),
        ]);
      } catch (error) {
        say("Could not load the comparison data (" + error.message + ").");
        return;
      }
      if (mine !== turn) {
        return; // a newer choice is being shown
      }
      pairRows(files[0], files[1], config.value, index).forEach((cells) => {
        const tr = document.createElement("tr");
        cells.forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      say("");
      heading.textContent =
        "A: " + shown(a) + ". B: " + shown(b) + ". " + (index.configs[config.value] || "") + ".";
      const query = new URLSearchParams({ a: a[0], b: b[0], config: config.value });
      const address = window.location.pathname + "?" + query.toString();
      window.history.replaceState(null, "", address);
      link.href = address;
      link.hidden = false;
    }

    fetch(folder + "index.json")
      .then((r) => {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then((data) => {
        index = data;
        index.machines.forEach((m) => {
          bySlug.set(m[0], m);
          option(list, m[0], m[1] || m[0]);
        });
        const asked = new URLSearchParams(window.location.search);
        inputA.value = asked.get("a") || "";
        inputB.value = asked.get("b") || "";
        form.addEventListener("change", (event) => {
          render(event.target === config ? config.value : asked.get("config"));
        });
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          render(config.value);
        });
        root.hidden = false;
        const fallback = document.getElementById("benchbook-compare-nojs");
        if (fallback) {
          fallback.hidden = true;
        }
        render(asked.get("config"));
      })
      .catch((error) => {
        root.hidden = false;
        say("Could not load the list of machines (" + error.message + ").");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
