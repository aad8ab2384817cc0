// Status boxes (an element with data-refresh-url): reload the box's HTML from the server, every 2 s
// while one of its store's runs is queued or running (the X-Runs-Active header says so), else every
// 30 s, and at once when a job button on the page starts a run or sees it end.
(function () {
  var FAST_MS = 2000, SLOW_MS = 30000;

  function bind(box) {
    var timer = null;
    var active = box.dataset.runsActive === "1";

    function schedule(ms) {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(refresh, ms);
    }

    function refresh() {
      if (document.hidden) { schedule(active ? FAST_MS : SLOW_MS); return; }
      fetch(box.dataset.refreshUrl, {headers: {"Accept": "text/html"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          active = response.headers.get("X-Runs-Active") === "1";
          return response.text();
        })
        .then(function (html) {
          box.innerHTML = html;
          box.dataset.runsActive = active ? "1" : "0";
          box.dataset.refreshedAt = String(Date.now());
          schedule(active ? FAST_MS : SLOW_MS);
        })
        .catch(function () { schedule(SLOW_MS); });
    }

    document.addEventListener("itbc:run-started", function () { active = true; schedule(200); });
    document.addEventListener("itbc:run-finished", function () { schedule(200); });
    schedule(active ? FAST_MS : SLOW_MS);
  }

  function start() {
    document.querySelectorAll("[data-refresh-url]").forEach(function (box) {
      if (box.dataset.refreshBound) { return; }
      box.dataset.refreshBound = "1";
      bind(box);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
