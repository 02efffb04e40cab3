/* Civic311 report form: the map sets the latitude/longitude inputs (which stay the source
 * of truth and work without JavaScript), "Use my location", the category's questions,
 * and photo previews. */
(function () {
  "use strict";

  var MAX_PHOTOS = 3;
  var form = document.getElementById("report-form");
  if (!form) return;
  var latInput = form.querySelector("#id_lat");
  var longInput = form.querySelector("#id_long");
  var statusEl = document.getElementById("map-status");
  var pin = null;

  function say(text) {
    statusEl.textContent = text;
  }

  function setInputs(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    longInput.value = latlng.lng.toFixed(6);
    say("Pin placed. Drag it to adjust.");
  }

  function placePin(map, latlng, pan) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, autoPan: true, title: "Problem location" }).addTo(map);
      pin.on("dragend", function () {
        setInputs(pin.getLatLng());
      });
    } else {
      pin.setLatLng(latlng);
    }
    if (pan) map.setView(latlng, Math.max(map.getZoom(), 16));
  }

  function readInputs() {
    var lat = parseFloat(latInput.value);
    var long = parseFloat(longInput.value);
    return isNaN(lat) || isNaN(long) ? null : L.latLng(lat, long);
  }

  function setUpMap(map) {
    var bounds = JSON.parse(document.getElementById("city-bounds").textContent);
    var city = L.latLngBounds([bounds[0], bounds[1]], [bounds[2], bounds[3]]);
    // Outline the city so people see where reports are accepted.
    L.rectangle(city, { color: "#1e3a5f", weight: 2, dashArray: "6 6", fill: false, interactive: false }).addTo(map);
    map.setMaxBounds(city.pad(0.5));

    var existing = readInputs();
    if (existing) {
      placePin(map, existing, true);
    } else {
      map.fitBounds(city, { animate: false });
    }

    map.on("click", function (event) {
      // From the whole-city view, a first tap also zooms in so the pin can be fine-tuned.
      placePin(map, event.latlng, map.getZoom() < 15);
      setInputs(event.latlng);
    });
    [latInput, longInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var typed = readInputs();
        if (typed) placePin(map, typed, true);
      });
    });

    var locate = document.getElementById("use-location");
    if ("geolocation" in navigator) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        say("Finding your location…");
        navigator.geolocation.getCurrentPosition(
          function (position) {
            var here = L.latLng(position.coords.latitude, position.coords.longitude);
            if (!city.contains(here)) {
              say("You seem to be outside the city. Place the pin on the map instead.");
              return;
            }
            placePin(map, here, true);
            setInputs(here);
          },
          function () {
            say("Your location is not available. Place the pin on the map instead.");
          },
          { enableHighAccuracy: true, timeout: 10000 }
        );
      });
    }
  }

  // Category questions: show (and submit) only the chosen category's fieldset.
  var serviceSelect = form.querySelector("#id_service");
  function showQuestions() {
    form.querySelectorAll("fieldset.questions").forEach(function (set) {
      var chosen = set.dataset.service === serviceSelect.value;
      set.hidden = !chosen;
      set.disabled = !chosen;
    });
  }
  serviceSelect.addEventListener("change", showQuestions);
  showQuestions();

  // Photo previews.
  var photoInput = form.querySelector("#id_photos");
  var previews = document.getElementById("photo-previews");
  photoInput.addEventListener("change", function () {
    previews.replaceChildren();
    var files = Array.prototype.slice.call(photoInput.files);
    photoInput.setCustomValidity(
      files.length > MAX_PHOTOS ? "Choose at most " + MAX_PHOTOS + " photos." : ""
    );
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      if (index >= MAX_PHOTOS) {
        item.className = "previews__too-many";
        item.textContent = file.name + ": only " + MAX_PHOTOS + " photos are accepted.";
      } else {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "Preview of " + file.name;
        img.onload = function () {
          URL.revokeObjectURL(img.src);
        };
        item.appendChild(img);
      }
      previews.appendChild(item);
    });
  });

  // The form is novalidate (the server explains every error), but a fourth photo is
  // caught here before the upload starts.
  form.addEventListener("submit", function (event) {
    if (photoInput.files.length > MAX_PHOTOS) {
      event.preventDefault();
      photoInput.reportValidity();
    }
  });

  var mapEl = document.getElementById("report-map");
  if (mapEl && window.L) setUpMap(window.Civic311Maps.create(mapEl));
})();
