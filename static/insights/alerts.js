/* The alert form's map: a click sets the circle's centre (the latitude and longitude
 * fields), and the circle follows the radius. The fields work without the map. */
(function () {
  "use strict";

  function init(map) {
    var lat = document.getElementById("id_lat");
    var long = document.getElementById("id_long");
    var radius = document.getElementById("id_radius_m");
    var circle = null;

    function draw() {
      var la = parseFloat(lat.value), ln = parseFloat(long.value), r = parseInt(radius.value, 10);
      if (isNaN(la) || isNaN(ln) || isNaN(r)) { return; }
      if (circle) { map.removeLayer(circle); }
      circle = L.circle([la, ln], { radius: r, color: "#c2410c", weight: 2, fillOpacity: 0.15 }).addTo(map);
    }

    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      long.value = event.latlng.lng.toFixed(6);
      var circleChoice = document.querySelector('input[name="where"][value="circle"]');
      if (circleChoice) { circleChoice.checked = true; }
      draw();
    });
    [lat, long, radius].forEach(function (el) { el.addEventListener("change", draw); });
    draw();
  }

  window.Civic311Alerts = { init: init };

  // civic311-maps.js (loaded before this file) makes the map: no inline script under the CSP.
  var el = document.getElementById("alert-map");
  if (el && window.L && window.Civic311Maps) init(window.Civic311Maps.create(el));
})();
