// The settings preview's page: follow the run's progress, then show the page again with its result.
(function () {
  "use strict";
  const root = document.getElementById("preview");
  if (!root || !["queued", "running"].includes(root.dataset.status)) return;
  const bar = document.getElementById("preview-progress");
  const count = document.getElementById("preview-count");
  const status = document.getElementById("preview-status");
  async function poll() {
    try {
      const response = await fetch(root.dataset.progressUrl, { credentials: "same-origin" });
      if (response.ok) {
        const run = await response.json();
        if (run.status === "done" || run.status === "failed") {
          window.location.reload();
          return;
        }
        status.textContent = run.status_display; // as the page shows it ("Running")
        bar.max = Math.max(run.total, 1);
        bar.value = run.done;
        count.textContent = run.done + " / " + run.total;
      }
    } catch (error) {
      // The server is restarting or the network is down: try again on the next round.
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 500);
})();
