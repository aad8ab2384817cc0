// A run page of a run still going: refresh until the run ends, so the page shows its final outcome.
setTimeout(function () { window.location.reload(); }, 2000);
