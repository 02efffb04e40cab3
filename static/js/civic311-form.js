/* Civic311 report form. The latitude/longitude inputs stay the source of truth (they work
 * without JavaScript); this script adds the map and its pin, "Use my location", the address
 * search (JSON instead of the form's own "Find" submit), the pin's address, the reports
 * already made nearby with "This is my problem too", the chosen category's questions and
 * notice, photo previews, and the offer to place the pin where a photo was taken. */
(function () {
  "use strict";

  var MAX_PHOTOS = 3;
  var form = document.getElementById("report-form");
  if (!form) return;
  var urls = JSON.parse(document.getElementById("form-urls").textContent);
  var latInput = form.querySelector("#id_lat");
  var lngInput = form.querySelector("#id_long");
  var addressInput = form.querySelector("#id_address");
  var placeInput = form.querySelector("input[type=hidden][name=place]");
  var serviceSelect = form.querySelector("#id_service");
  var statusEl = document.getElementById("map-status");
  var pinAddress = document.getElementById("pin-address");
  var map = null;
  var pin = null;
  var city = null;
  var autoAddress = ""; // the address this script last filled in (the citizen's wins)

  // The form's submission token (reports.models.Submission). After "Send report" the back
  // button fetches the page again, with a new token, and the browser puts back what was
  // typed: sent again, that would be a second report. Browsers put back an input's value
  // only when it differs from the one in the page, so the token is written here in
  // capitals (the same UUID to the server): the page that comes back keeps the token the
  // form was sent with, and sending it again leads to that report. A <input type=hidden>
  // is never put back, hence a text input with the hidden attribute.
  var submission = form.querySelector("[data-keep=submission]");
  if (submission) submission.value = submission.value.toUpperCase();

  function say(text) {
    statusEl.textContent = text;
  }

  function getJSON(url, params) {
    var query = new URLSearchParams(params).toString();
    return fetch(url + "?" + query, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function readInputs() {
    var lat = parseFloat(latInput.value);
    var lng = parseFloat(lngInput.value);
    return isNaN(lat) || isNaN(lng) ? null : { lat: lat, lng: lng };
  }

  function showPin(point, pan) {
    if (!map) return;
    var latlng = L.latLng(point.lat, point.lng);
    if (!pin) {
      // Not a keyboard stop of its own: a focused pin could not be moved with keys. The
      // map is (Enter there puts the pin at its centre, see setUpMap).
      pin = L.marker(latlng, {
        draggable: true, autoPan: true, keyboard: false, title: "Problem location", alt: "Problem location",
      }).addTo(map);
      pin.on("dragend", function () {
        setPoint(pin.getLatLng(), { pan: false });
      });
    } else {
      pin.setLatLng(latlng);
    }
    if (pan) map.setView(latlng, Math.max(map.getZoom(), 17));
  }

  // Every way of choosing the point ends here: inputs, pin, its address, what is nearby.
  function setPoint(point, options) {
    latInput.value = point.lat.toFixed(6);
    lngInput.value = point.lng.toFixed(6);
    if (placeInput) placeInput.value = "";
    showPin(point, options.pan);
    say(options.message || "Pin placed. Drag it to adjust.");
    if (options.label) {
      showAddress(options.label);
    } else {
      lookUpAddress(point);
    }
    showNearby();
  }

  function showAddress(label) {
    pinAddress.textContent = label ? "Pin at: " + label : "";
    if (label && (!addressInput.value || addressInput.value === autoAddress)) {
      addressInput.value = label;
      autoAddress = label;
    }
  }

  var reverseTimer = null;
  function lookUpAddress(point) {
    clearTimeout(reverseTimer);
    reverseTimer = setTimeout(function () {
      getJSON(urls.reverse, { lat: point.lat, long: point.lng })
        .then(function (answer) {
          showAddress(answer.place ? answer.place.label : "");
        })
        .catch(function () {
          pinAddress.textContent = "";
        });
    }, 250);
  }

  // Address search.
  var queryInput = form.querySelector("#id_place_query");
  var results = document.getElementById("place-results");
  function search() {
    var text = queryInput.value.trim();
    if (text.length < 2) {
      results.replaceChildren(el("p", "hint", "Type at least two letters of an address or street."));
      return;
    }
    results.replaceChildren(el("p", "hint", "Searching…"));
    getJSON(urls.search, { q: text })
      .then(function (answer) {
        if (!answer.results.length) {
          results.replaceChildren(
            el("p", "notice notice--warning", "No place found for “" + text + "”. Try the street name alone, or place the pin on the map.")
          );
          return;
        }
        var list = el("ul", "place-results place-results--js");
        list.setAttribute("aria-label", "Places found for “" + text + "”");
        answer.results.forEach(function (place) {
          var item = el("li");
          var button = el("button", "place-result", place.label);
          button.type = "button";
          if (place.kind === "street") button.append(el("span", "muted", " (street)"));
          button.addEventListener("click", function () {
            setPoint({ lat: place.lat, lng: place.long }, {
              pan: true,
              label: place.kind === "street" ? "" : place.label,
              message: "Drag the pin to the exact spot if needed.",
            });
            // The button is gone with the list: the focus goes to what replaced it, so a
            // keyboard user goes on from here and a screen reader reads it.
            var done = el("p", "notice notice--success", "Pin placed at " + place.label + ".");
            done.tabIndex = -1;
            results.replaceChildren(done);
            done.focus();
          });
          item.append(button);
          list.append(item);
        });
        results.replaceChildren(list);
        list.querySelector("button").focus();
      })
      .catch(function () {
        results.replaceChildren(el("p", "notice notice--warning", "The search is not available now. Place the pin on the map instead."));
      });
  }
  document.getElementById("find-place").addEventListener("click", function (event) {
    event.preventDefault();
    search();
  });
  queryInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });

  // Reports already made nearby, with "This is my problem too".
  var nearby = document.getElementById("nearby");
  var nearbyList = document.getElementById("nearby-list");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function supportForm(report, item) {
    var box = el("div", "support-inline");
    var id = "support-email-" + report.id;
    var label = el("label", "", "Your email, to hear when it is fixed (never published)");
    label.htmlFor = id;
    var input = el("input");
    input.type = "email";
    input.id = id;
    input.autocomplete = "email";
    var send = el("button", "button", "Add my voice");
    send.type = "button";
    var message = el("p", "support-inline__message");
    message.setAttribute("role", "status");
    send.addEventListener("click", function () {
      var body = new FormData();
      body.append("support-email", input.value);
      body.append("csrfmiddlewaretoken", csrf);
      fetch(report.support_url, { method: "POST", body: body, headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 429) {
            // The follow form's limit, shared: the answer is a page, not JSON.
            message.textContent = "Too many tries from this connection. Please try again later.";
            return;
          }
          return response.json().then(function (answer) {
            if (response.ok) {
              // The button goes with the form: the answer takes the focus, so a keyboard
              // user goes on from here (and a screen reader reads it).
              var done = el("p", "notice notice--success", answer.message);
              done.tabIndex = -1;
              box.replaceChildren(done);
              done.focus();
              return;
            }
            var errors = answer.errors || {};
            if (errors.captcha) {
              // The picture check lives on the report's own page.
              message.textContent = "Please add your voice on the report's page: ";
              var link = el("a", "", "open report #" + report.id);
              link.href = report.url + "#support";
              message.append(link);
              return;
            }
            var first = (errors["support-email"] || errors.email || errors.__all__ || [{ message: "Please check your email address." }])[0];
            message.textContent = first.message;
            input.setAttribute("aria-invalid", "true");
            input.focus();
          });
        })
        .catch(function () {
          message.textContent = "That did not work. Open the report and try there.";
        });
    });
    box.append(label, input, send, message);
    item.append(box);
    input.focus();
  }

  function nearbyItem(report) {
    var item = el("li", "nearby__item");
    if (report.thumbnail) {
      var img = el("img");
      img.src = report.thumbnail;
      img.alt = "";
      img.width = 64;
      img.height = 64;
      item.append(img);
    } else {
      var blank = el("span", "report-row__thumb report-row__thumb--none");
      blank.setAttribute("aria-hidden", "true");
      item.append(blank);
    }
    var body = el("span", "nearby__body");
    var title = el("a", "", report.title + " #" + report.id);
    title.href = report.url;
    var meta = report.metres + " m away · " + report.state + " · " + report.date;
    if (report.supporters) meta += " · +" + report.supporters;
    body.append(title, el("span", "muted", meta), el("span", "", report.description));
    var metoo = el("button", "button button--secondary metoo", "This is my problem too");
    metoo.type = "button";
    metoo.addEventListener("click", function () {
      metoo.remove();
      supportForm(report, body);
    });
    body.append(metoo);
    item.append(body);
    return item;
  }

  function showNearby() {
    var point = readInputs();
    if (!point || !serviceSelect.value) {
      nearby.hidden = true;
      return;
    }
    getJSON(urls.nearby, { service: serviceSelect.value, lat: point.lat, long: point.lng })
      .then(function (answer) {
        nearbyList.replaceChildren.apply(nearbyList, answer.reports.map(nearbyItem));
        nearby.hidden = !answer.reports.length;
      })
      .catch(function () {
        nearby.hidden = true;
      });
  }

  function setUpMap() {
    var bounds = JSON.parse(document.getElementById("city-bounds").textContent);
    city = L.latLngBounds([bounds[0], bounds[1]], [bounds[2], bounds[3]]);
    // Outline the city so people see where reports are accepted.
    L.rectangle(city, { color: "#1e3a5f", weight: 2, dashArray: "6 6", fill: false, interactive: false }).addTo(map);
    map.setMaxBounds(city.pad(0.5));

    var existing = readInputs();
    if (existing) {
      showPin(existing, true);
    } else {
      map.fitBounds(city, { animate: false });
    }

    map.on("click", function (event) {
      // From the whole-city view, a first tap also zooms in so the pin can be fine-tuned.
      setPoint(event.latlng, { pan: map.getZoom() < 15 });
    });

    // Without a mouse: the map takes the focus (Leaflet: the arrows move it, + and - zoom)
    // and Enter or Space puts the pin at its centre, which a cross marks while the map has
    // the keyboard's focus; the map-keys hint under the map says so.
    var container = map.getContainer();
    container.setAttribute("role", "application");
    container.setAttribute("aria-label", "Map: place the pin");
    container.setAttribute("aria-describedby", "map-keys");
    map.on("keydown", function (event) {
      var key = event.originalEvent.key;
      if (event.originalEvent.target !== container || (key !== "Enter" && key !== " ")) return;
      event.originalEvent.preventDefault();
      setPoint(map.getCenter(), {
        pan: map.getZoom() < 15,
        message: "Pin placed at the centre of the map. Move the map with the arrow keys and press Enter again to adjust it.",
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
              say("You seem to be outside the city. Search for the address instead.");
              return;
            }
            setPoint(here, { pan: true });
          },
          function () {
            say("Your location is not available. Search for the address instead.");
          },
          { enableHighAccuracy: true, timeout: 10000 }
        );
      });
    }
  }

  [latInput, lngInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var typed = readInputs();
      if (typed) setPoint(typed, { pan: true, message: "Pin moved to the coordinates typed." });
    });
  });

  // Category questions and notice: show (and submit) only the chosen category's fieldset.
  function showQuestions() {
    form.querySelectorAll("fieldset.questions").forEach(function (set) {
      var chosen = set.dataset.service === serviceSelect.value;
      set.hidden = !chosen;
      set.disabled = !chosen;
    });
  }
  serviceSelect.addEventListener("change", function () {
    showQuestions();
    showNearby();
  });
  showQuestions();

  // Photo previews, and the offer to put the pin where a photo was taken.
  var photoInput = form.querySelector("#id_photos");
  var previews = document.getElementById("photo-previews");
  var gpsOffer = document.getElementById("photo-gps-offer");
  function offerPhotoPlace(files) {
    gpsOffer.replaceChildren();
    gpsOffer.hidden = true;
    if (!window.Civic311Exif) return;
    files.slice(0, MAX_PHOTOS).reduce(function (found, file) {
      return found.then(function (point) {
        return point || window.Civic311Exif.readGps(file);
      });
    }, Promise.resolve(null)).then(function (point) {
      var inside = point && (!city || city.contains(L.latLng(point.lat, point.lng)));
      if (!inside) return;
      var button = el("button", "button button--secondary", "Put the pin where the photo was taken");
      button.type = "button";
      button.addEventListener("click", function () {
        setPoint(point, { pan: true, message: "Pin placed where the photo was taken. Drag it to adjust." });
        // The button goes with the offer: the notice that replaces it takes the focus, so a
        // keyboard user stays in the photos step rather than starting again from the top.
        var done = el("p", "notice notice--success", "Pin placed where the photo was taken.");
        done.tabIndex = -1;
        gpsOffer.replaceChildren(done);
        document.getElementById("report-map").scrollIntoView({ block: "center" });
        done.focus({ preventScroll: true });
      });
      gpsOffer.append(el("span", "", "This photo records where it was taken. "), button);
      gpsOffer.hidden = false;
    });
  }
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
    offerPhotoPlace(files);
  });

  // The form is novalidate (the server explains every error), but a fourth photo is
  // caught here before the upload starts.
  form.addEventListener("submit", function (event) {
    if (photoInput.files.length > MAX_PHOTOS) {
      event.preventDefault();
      photoInput.reportValidity();
    }
  });

  // The error summary takes the focus, so a screen reader reads it and Tab goes on to
  // its links.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  var mapEl = document.getElementById("report-map");
  if (mapEl && window.L) {
    map = window.Civic311Maps.create(mapEl);
    setUpMap();
  }
  if (readInputs()) showNearby();
})();
