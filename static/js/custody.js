// Stock-takes and transfers at scale: scanning, ticking many, filtering.
// Every page works without this file (the forms post and the page comes back
// with the answer); with it, a scan is answered at once and the cursor stays
// in the field, so a USB scanner can send number after number.
(function () {
  "use strict";

  function say(log, level, text) {
    if (!log) return;
    var li = document.createElement("li");
    li.className = "scan-" + level;
    li.textContent = text;
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 8) log.removeChild(log.lastChild);
  }

  // --- Stock-take: scan one number, answered as JSON -----------------------
  document.querySelectorAll("form[data-scan-form]").forEach(function (form) {
    var input = form.querySelector("input[name=number]");
    var log = form.querySelector("[data-scan-log]");
    var queue = Promise.resolve();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var number = input.value.trim();
      input.value = "";
      input.focus();
      if (!number) return;
      var body = new FormData(form);
      body.set("number", number);
      // One at a time, in the order scanned.
      queue = queue.then(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.json();
          })
          .then(function (answer) {
            say(log, answer.level, answer.message);
            update(answer);
          })
          .catch(function () {
            say(log, "error", number + ": " + (form.getAttribute("data-failed") || "?"));
          });
      });
    });
  });

  function update(answer) {
    if (answer.counts) {
      Object.keys(answer.counts).forEach(function (key) {
        document.querySelectorAll("[data-count='" + key + "']").forEach(function (el) {
          el.textContent = answer.counts[key];
        });
      });
      document.querySelectorAll("[data-count-found]").forEach(function (el) {
        el.textContent = answer.counts.found + answer.counts.damaged;
      });
      if (answer.found_weight) {
        document.querySelectorAll("[data-found-weight]").forEach(function (el) {
          el.textContent = answer.found_weight;
        });
      }
      var rest = document.querySelector("[data-rest-count]");
      if (rest) {
        rest.value = answer.counts.unchecked;
        var label = document.querySelector("[data-rest-label]");
        if (label && answer.rest_label) label.textContent = answer.rest_label;
        if (!answer.counts.unchecked) rest.closest("form").hidden = true;
      }
    }
    if (answer.outcome === "found" && answer.number) {
      var row = document.querySelector("tr[data-number='" + answer.number + "']");
      if (row) {
        var badge = row.querySelector("[data-result]");
        if (badge) {
          badge.textContent = answer.result_label;
          badge.className = "badge result-" + answer.result;
        }
        row.className = "line-" + answer.result + " just-scanned";
        var tick = row.querySelector("input[name=items]");
        if (tick) tick.checked = false;
      }
      // What signing off records has changed: the figures must be shown again.
      var signOff = document.querySelector("[data-sign-off]");
      if (signOff) {
        var stale = signOff.querySelector("[data-stale]");
        if (stale) stale.hidden = false;
        signOff.querySelectorAll("input[name=confirm_missing]").forEach(function (box) {
          box.checked = false;
          box.disabled = true;
        });
      }
    }
  }

  // --- Tick every row of a table ------------------------------------------
  // <input data-tick-all> in a table's head: ticks the visible rows' boxes.
  document.querySelectorAll("[data-tick-all]").forEach(function (all) {
    all.hidden = false;
    var table = all.closest("table");
    all.addEventListener("change", function () {
      table.querySelectorAll("tbody tr").forEach(function (row) {
        if (row.hidden) return;
        var box = row.querySelector("input[type=checkbox]");
        if (box && !box.disabled) box.checked = all.checked;
      });
      table.dispatchEvent(new Event("ticked", { bubbles: true }));
    });
  });

  // --- Transfer picker: filter the rows, tick by scan, count what is chosen --
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var table = picker.querySelector("table");
    var filter = picker.querySelector("[data-picker-filter]");
    var typeFilter = picker.querySelector("[data-picker-type]");
    var scan = picker.querySelector("[data-picker-scan]");
    var log = picker.querySelector("[data-scan-log]");
    var chosen = picker.querySelector("[data-picker-chosen]");
    var shown = picker.querySelector("[data-picker-shown]");
    var allShown = picker.querySelector("[data-picker-all]");
    var messages = picker.dataset;
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    picker.querySelectorAll("[data-js-only]").forEach(function (el) {
      el.hidden = false;
    });
    // The page's own ways without JavaScript (a list of numbers, "all the
    // filter shows", the Filter button) give way to the ones above.
    picker.querySelectorAll("[data-no-js]").forEach(function (el) {
      el.hidden = true;
      el.querySelectorAll("input, textarea, button").forEach(function (input) {
        input.disabled = true;
      });
    });

    function visible() {
      return rows.filter(function (row) {
        return !row.hidden;
      });
    }
    function refresh() {
      var n = 0;
      var kg = 0;
      rows.forEach(function (row) {
        var box = row.querySelector("input[type=checkbox]");
        if (box && box.checked) {
          n += 1;
          kg += parseFloat(row.getAttribute("data-kg") || "0");
        }
      });
      if (chosen) {
        var text = n === 1 ? messages.chosenOne : messages.chosenText;
        chosen.textContent = (text || "{n}")
          .replace("{n}", n)
          .replace("{kg}", kg.toLocaleString(document.documentElement.lang, {
            minimumFractionDigits: 3,
            maximumFractionDigits: 3,
          }));
      }
      var v = visible();
      if (shown) shown.textContent = v.length;
      if (allShown) {
        allShown.checked =
          v.length > 0 &&
          v.every(function (row) {
            return row.querySelector("input[type=checkbox]").checked;
          });
      }
    }
    function applyFilter() {
      var text = filter ? filter.value.trim().toUpperCase() : "";
      var type = typeFilter ? typeFilter.value : "";
      rows.forEach(function (row) {
        var hay = (row.getAttribute("data-search") || "").toUpperCase();
        row.hidden =
          (text && hay.indexOf(text) < 0) || (type && row.getAttribute("data-type") !== type);
      });
      refresh();
    }
    if (filter) {
      filter.addEventListener("input", applyFilter);
      // Enter in the filter must not send the whole form.
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    if (typeFilter) {
      typeFilter.removeAttribute("data-autosubmit");
      typeFilter.addEventListener("change", applyFilter);
    }
    if (allShown) {
      allShown.addEventListener("change", function () {
        visible().forEach(function (row) {
          row.querySelector("input[type=checkbox]").checked = allShown.checked;
        });
        refresh();
      });
    }
    table.addEventListener("change", refresh);
    table.addEventListener("ticked", refresh);
    if (scan) {
      scan.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        var number = scan.value.trim().toUpperCase();
        scan.value = "";
        if (!number) return;
        var row = rows.filter(function (r) {
          return (
            r.getAttribute("data-number") === number ||
            (r.getAttribute("data-mark") || "") === number
          );
        })[0];
        if (!row) {
          say(log, "error", (messages.notHere || "{number}").replace("{number}", number));
          return;
        }
        var box = row.querySelector("input[type=checkbox]");
        if (box.checked) {
          say(log, "warning", (messages.already || "{number}").replace("{number}", row.getAttribute("data-number")));
          return;
        }
        box.checked = true;
        row.hidden = false;
        row.classList.add("just-scanned");
        say(log, "success", (messages.added || "{number}").replace("{number}", row.getAttribute("data-number")));
        refresh();
      });
    }
    applyFilter();
  });

  // --- Receipt: scanned numbers are "Arrived" ---------------------------------
  document.querySelectorAll("[data-receive]").forEach(function (form) {
    var scan = form.querySelector("[data-receive-scan]");
    var log = form.querySelector("[data-scan-log]");
    var messages = form.dataset;
    form.querySelectorAll("[data-js-only]").forEach(function (el) {
      el.hidden = false;
    });
    if (!scan) return;
    scan.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var number = scan.value.trim().toUpperCase();
      scan.value = "";
      if (!number) return;
      var row = form.querySelector("tr[data-number='" + number + "']");
      var select = row && row.querySelector("select");
      if (!select) {
        say(log, "error", (messages.notHere || "{number}").replace("{number}", number));
        return;
      }
      if (select.value === "arrived") {
        say(log, "warning", (messages.already || "{number}").replace("{number}", number));
        return;
      }
      select.value = "arrived";
      row.classList.add("just-scanned");
      say(log, "success", (messages.arrived || "{number}").replace("{number}", number));
    });
  });
})();
