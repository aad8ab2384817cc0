// Basic Configuration: the Division -> UOM/Site and Site -> Location drop-downs reload in place from
// the options endpoint, so nothing else typed on the page is lost. "Refresh" re-reads every list, keeps
// each current choice while it is still offered, and says what it reloaded.
(function () {
  "use strict";
  var form = document.getElementById("basic-configuration-form");
  if (!form) { return; }
  var optionsUrl = form.dataset.optionsUrl;
  var status = document.getElementById("master-data-status");
  var select = function (name) { return form.querySelector("select[name='" + name + "']"); };
  var division = select("default_division");
  var site = select("default_site");
  var uom = select("default_uom");
  var location = select("default_location");
  var pending = null;

  function fill(target, rows) {
    if (!target) { return; }
    var keep = target.value;
    var blank = target.querySelector("option[value='']");
    target.replaceChildren();
    var empty = document.createElement("option");
    empty.value = "";
    empty.textContent = blank ? blank.textContent : "---------";
    target.appendChild(empty);
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = String(row.id);
      option.textContent = row.label;
      target.appendChild(option);
    });
    target.value = rows.some(function (row) { return String(row.id) === keep; }) ? keep : "";
  }

  function load(lists) {
    var params = new URLSearchParams({division: division.value || "", site: site.value || ""});
    if (pending) { pending.abort(); }
    pending = new AbortController();
    status.textContent = "Loading…";
    form.dataset.loading = "true";
    return fetch(optionsUrl + "?" + params.toString(), {
      headers: {"Accept": "application/json"}, credentials: "same-origin", signal: pending.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (lists.indexOf("divisions") >= 0) { fill(division, data.divisions); }
      if (lists.indexOf("uoms") >= 0) { fill(uom, data.uoms); }
      if (lists.indexOf("sites") >= 0) { fill(site, data.sites); }
      if (lists.indexOf("locations") >= 0) {
        // The site may just have been cleared because it left the list: ask again for its locations.
        if (String(site.value) !== params.get("site")) {
          return load(["locations"]).then(function (again) {
            return again && Object.assign({}, data, {locations: again.locations});
          });
        }
        fill(location, data.locations);
      }
      status.textContent = "";
      delete form.dataset.loading;
      return data;
    }).catch(function (error) {
      if (error.name === "AbortError") { return; }
      status.textContent = "Could not load the lists (" + error.message + ").";
      delete form.dataset.loading;
    });
  }

  if (division) {
    division.addEventListener("change", function () { load(["uoms", "sites", "locations"]); });
  }
  if (site) {
    site.addEventListener("change", function () { load(["locations"]); });
  }
  var refresh = document.getElementById("refresh-master-data");
  if (refresh) {
    var counted = function (count, one, many) { return count + " " + (count === 1 ? one : many); };
    refresh.addEventListener("click", function () {
      // Divisions first, then the lists that depend on the (possibly changed) division.
      var divisions = null;
      load(["divisions"]).then(function (first) {
        if (!first) { return null; }  // failed or overtaken: its own message stands
        divisions = first.divisions.length;
        return load(["uoms", "sites", "locations"]);
      }).then(function (second) {
        if (!second) { return; }
        // Sites and UOMs of the chosen division, locations of the chosen site, as the lists now hold them.
        status.textContent = "Reloaded " + counted(divisions, "division", "divisions") + ", " +
          counted(second.sites.length, "site", "sites") + ", " +
          counted(second.locations.length, "location", "locations") + ", " +
          counted(second.uoms.length, "UOM", "UOMs") + ".";
      });
    });
  }
}());
