// The replay page: loads the recording, marks each click on the player's timeline, and starts
// a few seconds before the click asked for (?occurrence= or ?t=).
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("player-config").textContent);
  var container = document.getElementById("player");
  var notice = document.getElementById("player-notice");
  var player = null;
  var firstTimestamp = 0;

  function say(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  function fail(text) {
    container.setAttribute("data-state", "error");
    container.innerHTML = "";
    var message = document.createElement("p");
    message.className = "player-status";
    message.textContent = text;
    container.appendChild(message);
  }

  // Where in the player (ms from its first event) to start for a click at clickMs.
  function offsetFor(clickMs) {
    return Math.max(0, clickMs - config.leadMs - firstTimestamp);
  }

  function markActive(occurrenceId) {
    document.querySelectorAll("[data-testid=replay-click]").forEach(function (item) {
      item.classList.toggle("active", item.getAttribute("data-occurrence-id") === occurrenceId);
    });
  }

  function jumpTo(clickMs) {
    var offset = offsetFor(clickMs);
    container.setAttribute("data-start-offset", String(Math.round(offset)));
    player.goto(offset, true);
  }

  // One rrweb custom event per click: rrweb-player draws a marker for each tag in `tags`.
  // The SDK's own custom events (breadcrumbs, performance spans) are left out: the player has no
  // use for them, and performance spans carry their timestamp in seconds, not milliseconds,
  // which would stretch the timeline back to 1970.
  function withClickMarkers(events) {
    events = events.filter(function (event) { return event.type !== 5; });
    var markers = config.clicks.map(function (click) {
      return {
        type: 5,
        timestamp: click.ms,
        data: { tag: click.tag, payload: { selector: click.selector, issue: click.issue, occurrence: click.occurrence } },
      };
    });
    return events.concat(markers).sort(function (a, b) { return a.timestamp - b.timestamp; });
  }

  var Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
  if (typeof Player !== "function") {
    fail("The replay player (rrweb-player) is not installed: run `make setup`, which installs it with npm.");
    return;
  }

  fetch(config.recordingUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("the recording could not be loaded (HTTP " + response.status + ")");
      var missing = response.headers.get(config.missingSegmentsHeader);
      if (missing) say("Segments " + missing + " of this recording could not be read and are skipped: the replay may jump there.");
      return response.json();
    })
    .then(function (events) {
      if (events.length < 2) {
        fail("This replay has no recording to play (no events stored).");
        return;
      }
      var playable = withClickMarkers(events);
      firstTimestamp = playable.reduce(function (min, event) { return Math.min(min, event.timestamp); }, Infinity);
      container.innerHTML = "";
      var width = Math.max(container.clientWidth, 320);
      var height = Math.round(Math.min(width * 0.6, window.innerHeight * 0.65));
      player = new Player({
        target: container,
        props: {
          events: playable,
          width: width,
          height: height,
          autoPlay: false,
          skipInactive: true,
          showController: true,
          tags: config.tags,
          mouseTail: { strokeStyle: "#e5484d" },
        },
      });
      window.replayPlayer = player;
      if (config.startMs !== null) {
        jumpTo(config.focusMs);
      }
      container.setAttribute("data-state", "ready");
    })
    .catch(function (error) {
      fail("The replay could not be played: " + error.message + ".");
    });

  // The click list jumps the player instead of reloading the page.
  document.querySelectorAll("[data-testid=replay-click] a.jump").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!player || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      var item = link.closest("[data-testid=replay-click]");
      var occurrenceId = item.getAttribute("data-occurrence-id");
      jumpTo(Number(item.getAttribute("data-click-ms")));
      markActive(occurrenceId);
      history.replaceState(null, "", "?occurrence=" + encodeURIComponent(occurrenceId));
      container.scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
  });
})();
