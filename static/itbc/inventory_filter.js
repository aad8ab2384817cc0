// Inventory Data filter: the Location list follows the Site. The server renders only the chosen site's
// locations; when the Site changes here, the list is rebuilt from every location (a <template> on the
// page) keeping those of the new site, and a chosen location of another site is dropped.
(function () {
  "use strict";
  var site = document.getElementById("id_site");
  var location = document.getElementById("id_location");
  var all = document.getElementById("inventory-location-options");
  if (!site || !location || !all) {
    return;
  }
  function narrow() {
    var chosen = location.value;
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = "---------";
    location.replaceChildren(blank);
    all.content.querySelectorAll("option").forEach(function (option) {
      if (!site.value || option.dataset.site === site.value) {
        location.appendChild(option.cloneNode(true));
      }
    });
    location.value = chosen;
    if (location.value !== chosen) {
      location.value = "";
    }
  }
  site.addEventListener("change", narrow);
})();
