/* The list's "Use my location" button: fills the "near" latitude and longitude from the
 * browser's geolocation and submits the filters. Without JavaScript (or permission) the
 * fields are typed by hand, or a neighbourhood is chosen instead. */
(function () {
  "use strict";

  var button = document.getElementById("near-me");
  var status = document.getElementById("near-me-status");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;

  button.addEventListener("click", function () {
    var form = button.form;
    status.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.long.value = position.coords.longitude.toFixed(6);
        status.textContent = "";
        form.requestSubmit();
      },
      function () {
        status.textContent = "Your location is not available. Type a latitude and longitude, or choose a neighbourhood.";
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
