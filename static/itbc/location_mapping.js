// Store inventory locations: choosing a row's IntelliTrack site reloads that row's location list (the
// locations of the site, from the Basic Configuration options endpoint); "Whole site" stays first.
(function () {
  "use strict";
  var form = document.getElementById("location-mapping-form");
  if (!form) { return; }
  var optionsUrl = form.dataset.optionsUrl;
  var division = form.dataset.division || "";

  function fill(target, rows) {
    var keep = target.value;
    var whole = document.createElement("option");
    whole.value = "";
    whole.textContent = "Whole site";
    target.replaceChildren(whole);
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = String(row.id);
      option.textContent = row.label;
      target.appendChild(option);
    });
    target.value = rows.some(function (row) { return String(row.id) === keep; }) ? keep : "";
  }

  form.querySelectorAll("tr[data-store-location]").forEach(function (row) {
    var site = row.querySelector("select[name$='-site']");
    var location = row.querySelector("select[data-location-select]");
    if (!site || !location) { return; }
    site.addEventListener("change", function () {
      if (!site.value) { fill(location, []); return; }
      row.dataset.loading = "true";
      var params = new URLSearchParams({division: division, site: site.value});
      fetch(optionsUrl + "?" + params.toString(), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) { fill(location, data.locations); })
        .catch(function () { fill(location, []); })
        .finally(function () { delete row.dataset.loading; });
    });
  });
})();
