/* Loaded in <head>, before the page paints: CSS can tell that scripts run. A file, not an
 * inline script, because the Content-Security-Policy allows no inline script. */
document.documentElement.classList.add("js");

/* A page that comes back with a form's errors moves the focus to their summary, so that a
 * screen reader reads them and Tab goes on to the fields they link to. Again once loaded:
 * going to the address's #fragment (the form's place) puts the focus back on the page. */
(function () {
  function focusErrors() {
    var summary = document.querySelector('[role="alert"][tabindex="-1"]');
    if (summary && document.activeElement === document.body) summary.focus();
  }
  document.addEventListener("DOMContentLoaded", focusErrors);
  window.addEventListener("load", function () { setTimeout(focusErrors, 0); });
})();
