/* The reporter's preview page: the time left before the report is public, kept current, and
 * a polite spoken warning two minutes before the end (WCAG 2.2.1), with the way to get more
 * time. The page says it all without JavaScript; this only keeps it up to date. A file, not
 * an inline script, because the Content-Security-Policy allows no inline script. */
(function () {
  var WARN_SECONDS = 120;

  function start() {
    var time = document.querySelector("[data-preview-seconds]");
    var alert = document.querySelector("[data-preview-alert]");
    var left = document.querySelector("[data-preview-left]");
    if (!time || !alert) return;
    // The server's count of seconds, not the device's clock, which may be wrong.
    var end = Date.now() + 1000 * parseInt(time.getAttribute("data-preview-seconds"), 10);
    var at = time.getAttribute("data-preview-at");
    var canExtend = time.hasAttribute("data-preview-extend");
    var warned = false;
    var ended = false;

    function tick() {
      var seconds = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.ceil(seconds / 60);
      if (left && seconds > 0) left.textContent = minutes > 1 ? minutes + " minutes" : "1 minute";
      if (seconds <= 0 && !ended) {
        ended = true;
        if (left) left.textContent = "0 minutes";
        alert.textContent = "Your report is public now. Changes sent now are not saved " +
          "to it; you can add them as a comment on its page.";
        return;
      }
      if (seconds <= WARN_SECONDS && !warned) {
        warned = true;
        alert.textContent = "Your report becomes public " +
          (seconds > 60 ? "in " + minutes + " minutes" : "in less than a minute") +
          ", at " + at + "." +
          (canExtend ? " Press \u201cI need more time\u201d to keep it private for longer." :
            " It cannot be held back longer.");
      }
      if (!ended) setTimeout(tick, 1000);
    }
    // A moment after loading, so that screen readers know the live region before it speaks.
    setTimeout(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
