// Status boxes (elements with data-store-id and data-refresh-url; the page names its activity feed in a
// data-activity-url attribute): poll the feed, one cheap request for every store on the page, every 2 s
// while a run of a shown store is going, else every 10 s, and reload a box's HTML when its store's
// newest run or running state changed, so a box shows a run starting and finishing without a page
// reload. A job button on the page (job_buttons.js) asks for a poll at once when it starts or ends a run.
(function () {
  var FAST_MS = 2000, SLOW_MS = 10000;

  function start() {
    var feed = document.querySelector("[data-activity-url]");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-store-id][data-refresh-url]"));
    if (!feed || !boxes.length) { return; }
    var url = feed.dataset.activityUrl;
    var timer = null;

    function schedule(ms) {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(poll, ms);
    }

    function reload(box, signature) {
      return fetch(box.dataset.refreshUrl, {headers: {"Accept": "text/html"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          box.innerHTML = html;
          box.dataset.activity = signature;
          box.dataset.refreshedAt = String(Date.now());
        });
    }

    function poll() {
      if (document.hidden) { schedule(SLOW_MS); return; }
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          var going = false;
          var reloads = boxes.map(function (box) {
            var facts = data.stores[box.dataset.storeId];
            if (!facts) { return null; }  // no run in the feed's window: nothing changed
            going = going || facts.active;
            if (box.dataset.activity === undefined) { box.dataset.activity = facts.signature; }
            if (facts.signature === box.dataset.activity && !facts.active) { return null; }
            return reload(box, facts.signature);
          });
          return Promise.all(reloads).then(function () { schedule(going ? FAST_MS : SLOW_MS); });
        })
        .catch(function () { schedule(SLOW_MS); });
    }

    document.addEventListener("itbc:run-started", function () { schedule(300); });
    document.addEventListener("itbc:run-finished", function () { schedule(300); });
    schedule(FAST_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
