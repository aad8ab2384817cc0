// A filter box above every timezone list (select[data-timezone-filter]): typing "new york", "tokyo" or
// "europe/" hides the zones that do not match, so a list of some 400 names is quick to use. Without
// JavaScript the plain list still works; the server checks whatever is sent.
(function () {
  "use strict";

  function normalise(text) {
    return text.toLowerCase().replace(/_/g, " ");
  }

  function attach(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Filter timezones (e.g. new york, tokyo, europe/)";
    box.setAttribute("aria-label", "Filter the timezones of " + (select.labels.length ? select.labels[0].textContent.trim() : "this list"));
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    box.disabled = select.disabled;
    box.dataset.timezoneFilterFor = select.name;
    var count = document.createElement("div");
    count.className = "form-text mt-0 mb-1";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select);

    var options = Array.prototype.slice.call(select.options);
    var zones = options.filter(function (option) { return option.value !== ""; });

    function apply() {
      var words = normalise(box.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option) {
        var text = normalise(option.value + " " + option.textContent);
        var matches = option.value !== "" && words.every(function (word) { return text.indexOf(word) >= 0; });
        // The blank choice and the current choice stay, so the list never loses what is selected.
        option.hidden = !(matches || option.value === "" || option.selected);
        if (matches) { shown += 1; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
      });
      count.textContent = words.length ? shown + " of " + zones.length + " timezones match" : "";
    }

    function firstShown() {
      for (var i = 0; i < zones.length; i += 1) {
        if (!zones[i].hidden && !zones[i].selected) { return zones[i]; }
      }
      return null;
    }

    box.addEventListener("input", apply);
    box.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      // Enter picks the first match instead of submitting the form.
      event.preventDefault();
      var match = firstShown();
      if (match) {
        select.value = match.value;
        select.dispatchEvent(new Event("change", {bubbles: true}));
        apply();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-timezone-filter]"), attach);
}());
