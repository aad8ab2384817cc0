// Job buttons: start the job, then poll its progress (processed of total) until it ends, then link the run.
(function () {
  function poll(form, progressUrl, detailUrl) {
    var bar = form.querySelector(".progress-bar");
    var text = form.querySelector(".job-progress-text");
    var link = form.querySelector(".job-run-link");
    fetch(progressUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        var pct = p.total ? Math.min(100, Math.round(100 * p.processed / p.total)) : (p.finished ? 100 : 0);
        bar.style.width = pct + "%";
        text.textContent = "Run #" + p.id + ": " + p.status_display + " — " + p.processed +
          (p.total !== null ? " of " + p.total : "") + " processed" + (p.failed ? ", " + p.failed + " failed" : "");
        if (p.finished) {
          document.dispatchEvent(new CustomEvent("itbc:run-finished", {detail: {run: p.id}}));
          bar.classList.add(p.status === "succeeded" ? "bg-success" : (p.status === "partial" ? "bg-warning" : "bg-danger"));
          link.href = detailUrl; link.textContent = "Open run #" + p.id; link.classList.remove("d-none");
          form.querySelector(".job-button").disabled = false;
        } else {
          setTimeout(function () { poll(form, progressUrl, detailUrl); }, 700);
        }
      })
      .catch(function () { setTimeout(function () { poll(form, progressUrl, detailUrl); }, 2000); });
  }
  document.querySelectorAll("form.job-form").forEach(function (form) {
    if (form.dataset.jobBound) { return; }  // the script may be included twice on one page
    form.dataset.jobBound = "1";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var refusal = form.querySelector(".job-refusal");
      refusal.classList.add("d-none");
      form.querySelector(".job-button").disabled = true;
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
        .then(function (res) {
          var data = res.data;
          if (!res.ok) {
            refusal.textContent = data.error || "The job could not start.";
            if (data.detail_url) {
              var a = document.createElement("a");
              a.href = data.detail_url; a.textContent = " Open run #" + data.run_id; a.className = "ms-1";
              refusal.appendChild(a);
            }
            refusal.classList.remove("d-none");
            form.querySelector(".job-button").disabled = false;
            if (!data.progress_url) { return; }
          }
          // The page's status boxes (status_refresh.js) reload now and poll fast until the run ends.
          document.dispatchEvent(new CustomEvent("itbc:run-started", {detail: {run: data.run_id}}));
          form.querySelector(".job-progress").classList.remove("d-none");
          form.querySelector(".progress-bar").className = "progress-bar";
          form.querySelector(".job-run-link").classList.add("d-none");
          poll(form, data.progress_url, data.detail_url);
        })
        .catch(function () {
          refusal.textContent = "The server could not be reached."; refusal.classList.remove("d-none");
          form.querySelector(".job-button").disabled = false;
        });
    });
  });
})();
