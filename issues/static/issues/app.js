// Small conveniences of the web UI; every page works without them.
(function () {
  "use strict";

  // Filters apply as soon as a select or a date changes (the search box on Enter): no Apply
  // button, and the URL keeps what was asked for.
  document.querySelectorAll("form[data-autosubmit] select, form[data-autosubmit] input[type=date]").forEach(function (field) {
    field.addEventListener("change", function () {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    });
  });

  // Bulk actions: the page's checkbox ticks every issue of the page; the bar counts them.
  var pageBox = document.querySelector("[data-select-page]");
  if (pageBox) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=id][form=bulk]"));
    var counter = document.querySelector("[data-selected-count]");
    var allBox = document.querySelector("[data-testid=select-all]");
    var update = function () {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      pageBox.checked = ticked === boxes.length;
      pageBox.indeterminate = ticked > 0 && ticked < boxes.length;
      counter.textContent = ticked ? ticked + " selected" : "Select";
      if (allBox && !pageBox.checked) allBox.checked = false;
    };
    pageBox.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = pageBox.checked; });
      update();
    });
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (allBox) allBox.addEventListener("change", function () {
      if (allBox.checked) { boxes.forEach(function (box) { box.checked = true; }); update(); allBox.checked = true; }
    });
  }

  // Exact times in the reader's time zone: <time datetime> holds UTC, the page rewrites it.
  document.querySelectorAll("time[data-local]").forEach(function (element) {
    var moment = new Date(element.getAttribute("datetime"));
    if (isNaN(moment.getTime())) return;
    element.textContent = moment.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
    });
  });

  // Empty filters stay out of the URL, so it reads like what was asked for.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("formdata", function (event) {
      Array.from(event.formData.entries()).forEach(function (entry) {
        if (entry[1] === "") event.formData.delete(entry[0]);
      });
    });
  });

  // Copy buttons: data-copy holds the selector of the element whose text is copied.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1200);
      });
    });
  });

  // The project switcher closes when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.switcher[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.removeAttribute("open");
    });
  });

  // Keyboard: "/" searches, j / k move through the issue list, Enter opens the issue.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "/") {
      var search = document.querySelector("[data-testid=search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key !== "j" && event.key !== "k") return;
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-testid=issue-title]"));
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    index = event.key === "j" ? Math.min(index + 1, links.length - 1) : Math.max(index - 1, 0);
    links[index].focus();
    links[index].closest("tr").scrollIntoView({ block: "nearest" });
  });
})();
