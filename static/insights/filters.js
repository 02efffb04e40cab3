/* Filter forms: leave empty fields out of the query string, so the address after "Show"
 * is as short as the permalink the page prints. Without JavaScript the form still works. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-clean-query]").forEach(function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "") { field.disabled = true; }
      });
    });
    // Coming back with the browser's back button must not find the fields disabled.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
    });
  });
})();
