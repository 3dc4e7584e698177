// The replay page: loads the recording, plays it scaled to the page's width, marks each click on
// the player's timeline, starts a few seconds before the click asked for (?occurrence= or ?t=),
// and lists beside it what the SDK recorded (clicks, navigations, console errors, requests) and
// the error events the server stored, each row seeking the player to its moment. Built here from
// the events the player loads, in the player's clock: why, in issues/replay_timeline.py.
(function () {
  "use strict";

  // Rows shown at most: the list stays light for a replay that logged or fetched in a loop.
  var MAX_ROWS = 2000;
  var MAX_TEXT = 300;
  // The SDK writes some custom events' timestamps in seconds (performance spans), rrweb in ms.
  var SECONDS_BELOW = 1e11;
  var REQUEST_OPS = { "resource.fetch": true, "resource.xhr": true };
  var PAGE_LOAD_OPS = { "navigation.navigate": true, "navigation.reload": true, "navigation.back_forward": true };
  // The player's controller is drawn below the recording, this tall (rrweb-player's constant).
  var CONTROLLER_HEIGHT = 80;

  var config = JSON.parse(document.getElementById("player-config").textContent);
  var container = document.getElementById("player");
  var notice = document.getElementById("player-notice");
  var urlBar = document.querySelector("[data-testid=player-url]");
  var durationLabel = document.querySelector("[data-testid=replay-duration]");
  var list = document.querySelector("[data-testid=timeline-rows]");
  var player = null;
  var firstTimestamp = 0;
  var urlTrack = [];
  var rowItems = [];
  var currentItem = null;

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
    list.innerHTML = "";
  }

  function text(value) {
    return typeof value === "string" ? value.slice(0, MAX_TEXT) : "";
  }

  function ms(value) {
    if (typeof value !== "number" || !isFinite(value) || value <= 0) return null;
    return Math.round(value < SECONDS_BELOW ? value * 1000 : value);
  }

  function pad(number) {
    return number < 10 ? "0" + number : String(number);
  }

  // A position in the replay as rrweb-player's controller writes it ("00:47", "1:02:03").
  function clock(offsetMs) {
    var total = Math.max(0, Math.floor(offsetMs / 1000));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    return (hours ? pad(hours) + ":" : "") + pad(minutes) + ":" + pad(seconds);
  }

  function seconds(durationMs) {
    return durationMs < 1000 ? Math.round(durationMs) + " ms" : (durationMs / 1000).toFixed(1) + " s";
  }

  // A URL without its query string and fragment (they may hold tokens, and they make every
  // request look different).
  function withoutQuery(url) {
    return text(url).split(/[?#]/)[0];
  }

  // A page URL less its fragment: /cart#cart is the page /cart, as the issue pages and grouping
  // say (a jump to an anchor is not another page).
  function withoutFragment(url) {
    return text(url).split("#")[0];
  }

  function resolved(url, base) {
    try {
      return new URL(url, base || undefined).href;
    } catch (error) {
      return text(url);
    }
  }

  // One pass over the recording's custom events (rrweb type 5) and meta events (type 4, the page
  // a snapshot was taken of); the DOM's events are not looked into.
  function timelineOf(events) {
    var rows = [];
    var urls = [];
    events.forEach(function (event) {
      if (event.type === 4 && event.data && typeof event.data.href === "string") {
        urls.push({ ms: ms(event.timestamp), url: event.data.href });
        return;
      }
      if (event.type !== 5 || !event.data || !event.data.payload) return;
      var payload = event.data.payload;
      if (event.data.tag === "breadcrumb") {
        var at = ms(payload.timestamp) || ms(event.timestamp);
        var data = payload.data || {};
        if (payload.category === "ui.click") {
          rows.push({ ms: at, kind: "click", lanes: "breadcrumbs", title: "Click", detail: text(payload.message), nodeId: data.nodeId });
        } else if (payload.category === "navigation" && typeof data.to === "string") {
          rows.push({ ms: at, kind: "navigation", lanes: "breadcrumbs", title: "Navigation", detail: text(data.to), to: data.to });
        } else if (payload.category === "console" && payload.level === "error") {
          rows.push({ ms: at, kind: "console", lanes: "breadcrumbs errors", title: "Console error", detail: text(payload.message), failed: true });
        }
      } else if (event.data.tag === "performanceSpan") {
        var start = ms(payload.startTimestamp);
        var end = ms(payload.endTimestamp);
        var spanData = payload.data || {};
        if (REQUEST_OPS[payload.op]) {
          var status = typeof spanData.statusCode === "number" ? spanData.statusCode : null;
          rows.push({
            ms: start,
            kind: "request",
            lanes: "network",
            title: text(spanData.method || "GET").toUpperCase() + " " + withoutQuery(payload.description),
            status: status,
            durationMs: start !== null && end !== null ? end - start : null,
            failed: status === null || status === 0 || status >= 400,
          });
        } else if (PAGE_LOAD_OPS[payload.op] && typeof payload.description === "string") {
          rows.push({ ms: start, kind: "navigation", lanes: "breadcrumbs", title: "Page load", detail: withoutQuery(payload.description), to: payload.description });
        }
      }
    });
    config.errors.forEach(function (error) {
      rows.push({ ms: error.ms, kind: "error", lanes: "errors", title: error.type, detail: error.value, failed: true });
    });
    rows = rows.filter(function (row) { return row.ms !== null; });
    rows.sort(function (a, b) { return a.ms - b.ms; });
    return { rows: withIssues(rows), urls: urlsOf(rows, urls) };
  }

  // The replay's click issues on their click rows (the occurrence's time is its ui.click's), and
  // as rows of their own where no click is recorded (a hydration error, say).
  function withIssues(rows) {
    var clickRows = {};
    rows.forEach(function (row) {
      if (row.kind === "click") clickRows[row.ms] = row;
    });
    config.clicks.forEach(function (click) {
      var row = clickRows[click.ms];
      if (!row) {
        row = { ms: click.ms, kind: "click", lanes: "breadcrumbs", title: "Issue", detail: click.selector || "" };
        rows.push(row);
      }
      row.issues = (row.issues || []).concat([click]);
      row.failed = true;
    });
    rows.sort(function (a, b) { return a.ms - b.ms; });
    return rows;
  }

  // The page's URL over time: each snapshot's page, and each navigation's target (a path the SDK
  // writes relative to the page it left).
  function urlsOf(rows, metaUrls) {
    var track = metaUrls.filter(function (entry) { return entry.ms !== null; });
    rows.forEach(function (row) {
      if (row.kind === "navigation") track.push({ ms: row.ms, url: row.to });
    });
    track.sort(function (a, b) { return a.ms - b.ms; });
    var base = "";
    track.forEach(function (entry) {
      entry.url = resolved(entry.url, base);
      base = entry.url;
    });
    return track;
  }

  function urlAt(momentMs) {
    var current = urlTrack.length ? urlTrack[0].url : "";
    for (var index = 0; index < urlTrack.length && urlTrack[index].ms <= momentMs; index++) {
      current = urlTrack[index].url;
    }
    return current;
  }

  function linkParams(extra) {
    var params = new URLSearchParams(extra);
    if (config.issueParam !== null) params.set("issue", String(config.issueParam));
    return "?" + params.toString();
  }

  function span(className, content) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = content;
    return element;
  }

  function rowItem(row) {
    var item = document.createElement("li");
    item.className = "tl-row tl-" + row.kind + (row.failed ? " failed" : "");
    row.lanes.split(" ").forEach(function (lane) { item.classList.add("lane-" + lane); });
    var focusWindow = config.focusWindow;
    if (focusWindow && row.ms >= focusWindow.startMs && row.ms <= focusWindow.endMs) item.classList.add("in-window");
    item.setAttribute("data-testid", "timeline-row");
    item.setAttribute("data-kind", row.kind);
    item.setAttribute("data-ms", String(row.ms));
    var link = document.createElement("a");
    link.className = "tl-jump";
    link.href = linkParams({ t: String(row.ms) });
    link.title = "Play from this moment";
    link.appendChild(span("clock", clock(row.ms - firstTimestamp)));
    link.appendChild(span("tl-icon", ""));
    var body = document.createElement("span");
    body.className = "tl-body";
    body.appendChild(span("tl-title", row.title));
    (row.issues || []).forEach(function (click) {
      var kind = click.tag.split(" ")[0];
      body.appendChild(span("badge " + (config.tags[click.tag] ? "badge-" + kind : "badge-other"), click.tag));
    });
    if (row.kind === "request") {
      body.appendChild(span("tl-status" + (row.failed ? " failed" : ""), row.status === null || row.status === 0 ? "no answer" : String(row.status)));
      if (row.durationMs !== null) body.appendChild(span("tl-duration muted", seconds(row.durationMs)));
      // Started in the click's window and not answered by its end: what the SDK gave up on.
      if (item.classList.contains("in-window") && (row.durationMs === null || row.ms + row.durationMs > focusWindow.endMs)) {
        item.classList.add("pending");
        body.appendChild(span("tl-pending", "pending when the SDK gave up"));
      }
    } else if (row.detail) {
      body.appendChild(span("tl-detail", row.detail));
    }
    link.appendChild(body);
    link.addEventListener("click", function (event) {
      if (!player || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      seekTo(row.ms, 0);
    });
    item.appendChild(link);
    return item;
  }

  function showTimeline(rows) {
    list.innerHTML = "";
    var shown = rows.slice(0, MAX_ROWS);
    rowItems = shown.map(function (row) {
      var item = rowItem(row);
      list.appendChild(item);
      return item;
    });
    if (!rows.length) {
      var empty = document.createElement("li");
      empty.className = "timeline-empty muted";
      empty.textContent = "The SDK recorded no clicks, navigations, console errors or requests.";
      list.appendChild(empty);
    } else if (rows.length > shown.length) {
      var more = document.createElement("li");
      more.className = "timeline-empty muted";
      more.textContent = (rows.length - shown.length) + " later rows are not shown.";
      list.appendChild(more);
    }
    document.querySelector("[data-testid=timeline-count]").textContent = String(rows.length);
    var windowStart = list.querySelector(".in-window");
    document.querySelector("[data-testid=window-note]").hidden = !windowStart;
    if (windowStart) list.scrollTop = Math.max(0, windowStart.offsetTop - list.clientHeight / 3);
  }

  // The row of the moment being played is marked, and the URL above the player follows it.
  function showMoment(offsetMs) {
    var moment = firstTimestamp + offsetMs;
    container.setAttribute("data-current-ms", String(Math.round(offsetMs)));
    var url = withoutFragment(urlAt(moment));
    urlBar.hidden = !url;
    urlBar.querySelector("code").textContent = url;
    urlBar.querySelector("code").title = url;
    var current = null;
    rowItems.forEach(function (item) {
      if (Number(item.getAttribute("data-ms")) <= moment) current = item;
    });
    if (current === currentItem) return;
    if (currentItem) currentItem.classList.remove("current");
    currentItem = current;
    if (!current) return;
    current.classList.add("current");
    // The list follows the playback: a new current row out of sight is scrolled to.
    if (current.offsetTop < list.scrollTop || current.offsetTop + current.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, current.offsetTop - list.clientHeight / 3);
    }
  }

  // The focused click's window as a band on the player's progress bar.
  function markWindow(totalMs) {
    var focusWindow = config.focusWindow;
    var progress = container.querySelector(".rr-progress");
    if (!focusWindow || !progress || !(totalMs > 0)) return;
    var start = Math.min(Math.max(0, focusWindow.startMs - firstTimestamp), totalMs);
    var end = Math.min(Math.max(start, focusWindow.endMs - firstTimestamp), totalMs);
    var band = document.createElement("div");
    band.className = "window-band";
    band.setAttribute("data-testid", "window-band");
    band.title = "The click's window: " + clock(start) + " to " + clock(end);
    band.style.left = (100 * start) / totalMs + "%";
    band.style.width = Math.max(0.5, (100 * (end - start)) / totalMs) + "%";
    progress.appendChild(band);
  }

  // Where in the player (ms from its first event) a moment is, leadMs before it.
  function offsetFor(momentMs, leadMs) {
    return Math.max(0, momentMs - leadMs - firstTimestamp);
  }

  function seekTo(momentMs, leadMs) {
    var offset = offsetFor(momentMs, leadMs);
    container.setAttribute("data-start-offset", String(Math.round(offset)));
    player.goto(offset, false);
    showMoment(offset);
  }

  function markActive(occurrenceId) {
    document.querySelectorAll("[data-testid=replay-click]").forEach(function (item) {
      item.classList.toggle("active", item.getAttribute("data-occurrence-id") === occurrenceId);
    });
  }

  // One rrweb custom event per click: rrweb-player draws a marker for each tag in `tags`.
  // The SDK's own custom events (breadcrumbs, performance spans) are left out: the player would
  // draw a marker for each (the timeline shows them), and performance spans carry their
  // timestamp in seconds, not milliseconds, which would stretch the player back to 1970.
  // But the recording lasts until the last thing the SDK recorded, not until the page last
  // changed: after a dead click nothing changes while the SDK waits 7 s, and those seconds are
  // the evidence. A plugin event (rrweb type 6, which neither the player nor its progress bar
  // acts on) at that moment keeps them in the player's timeline.
  function playableOf(events) {
    var playable = events.filter(function (event) { return event.type !== 5; });
    var markers = config.clicks.map(function (click) {
      return {
        type: 5,
        timestamp: click.ms,
        data: { tag: click.tag, payload: { selector: click.selector, issue: click.issue, occurrence: click.occurrence } },
      };
    });
    playable = playable.concat(markers).sort(function (a, b) { return a.timestamp - b.timestamp; });
    var lastRecorded = events.reduce(function (last, event) { return Math.max(last, ms(event.timestamp) || 0); }, 0);
    if (playable.length && lastRecorded > playable[playable.length - 1].timestamp) {
      playable.push({ type: 6, timestamp: lastRecorded, data: { plugin: "replay-issues/recording-end", payload: {} } });
    }
    return playable;
  }

  // The recording's size (its first snapshot's viewport), to give the player the same aspect.
  function viewportOf(events) {
    for (var index = 0; index < events.length; index++) {
      var data = events[index].type === 4 && events[index].data;
      if (data && data.width > 0 && data.height > 0) return data;
    }
    return { width: 16, height: 9 };
  }

  // The recording fills the card's width; only a very tall one is capped to the window's height.
  function playerSize(viewport) {
    var width = Math.max(container.clientWidth, 320);
    var height = Math.round((width * viewport.height) / viewport.width);
    var room = Math.max(240, Math.round(window.innerHeight * 0.8) - CONTROLLER_HEIGHT);
    return { width: width, height: Math.min(height, room) };
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
      var playable = playableOf(events);
      firstTimestamp = playable.reduce(function (min, event) { return Math.min(min, event.timestamp); }, Infinity);
      var timeline = timelineOf(events);
      urlTrack = timeline.urls;
      container.innerHTML = "";
      var size = playerSize(viewportOf(events));
      player = new Player({
        target: container,
        props: {
          events: playable,
          width: size.width,
          height: size.height,
          maxScale: 0,
          autoPlay: false,
          skipInactive: true,
          showController: true,
          tags: config.tags,
          mouseTail: { strokeStyle: "#e5484d" },
        },
      });
      window.replayPlayer = player;
      showTimeline(timeline.rows);
      // The header's duration is the player's own total: one clock for both.
      var totalMs = player.getMetaData().totalTime;
      container.setAttribute("data-total-ms", String(Math.round(totalMs)));
      durationLabel.textContent = " · " + clock(totalMs) + " long";
      durationLabel.hidden = false;
      document.querySelectorAll("[data-testid=replay-click] .clock").forEach(function (label) {
        label.textContent = clock(Number(label.closest("[data-testid=replay-click]").getAttribute("data-click-ms")) - firstTimestamp);
      });
      player.addEventListener("ui-update-current-time", function (event) {
        showMoment(event.payload);
      });
      markWindow(totalMs);
      if (config.startMs !== null) {
        seekTo(config.focusMs, config.leadMs);
      } else {
        showMoment(0);
      }
      container.setAttribute("data-state", "ready");
    })
    .catch(function (error) {
      fail("The replay could not be played: " + error.message + ".");
    });

  document.querySelectorAll("[data-testid=timeline] .lane").forEach(function (button) {
    button.addEventListener("click", function () {
      list.setAttribute("data-lane", button.getAttribute("data-lane"));
      document.querySelectorAll("[data-testid=timeline] .lane").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
    });
  });

  // The click list jumps the player instead of reloading the page.
  document.querySelectorAll("[data-testid=replay-click] a.jump").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!player || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      var item = link.closest("[data-testid=replay-click]");
      var occurrenceId = item.getAttribute("data-occurrence-id");
      seekTo(Number(item.getAttribute("data-click-ms")), config.leadMs);
      markActive(occurrenceId);
      history.replaceState(null, "", linkParams({ occurrence: occurrenceId }));
      container.scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
  });
})();
