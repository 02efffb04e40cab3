/* Civic311 staff maps: the queue map, the boundaries overview and the boundary editor.
   Plain Leaflet (+ leaflet.draw for the editor); no GeoDjango. Every map reads its
   settings from a data-map attribute (JSON) and its data from a json_script element. */
(function () {
  "use strict";

  var STATE_COLOURS = {
    new: "#d64545", acknowledged: "#f0b429", in_progress: "#2186eb",
    fixed: "#3ebd93", duplicate: "#9aa5b1", not_actionable: "#9aa5b1", referred: "#9aa5b1"
  };

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(el) {
    var config = JSON.parse(el.dataset.map);
    var map = L.map(el, { scrollWheelZoom: false }).setView(config.center, config.zoom);
    if (el.getAttribute("aria-label")) el.setAttribute("role", "region");
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    return map;
  }

  function queueMap(el) {
    var map = baseMap(el);
    var markers = readJSON(el.dataset.source) || [];
    var layer = L.featureGroup().addTo(map);
    markers.forEach(function (m) {
      // A dot opens its report; hovering (or focusing the map) names it first.
      var marker = L.circleMarker([m.lat, m.long], {
        radius: 7, weight: 2, color: "#fff", fillOpacity: 0.9,
        fillColor: STATE_COLOURS[m.state] || "#52606d"
      });
      var name = "#" + m.id + " " + m.service + " · " + m.state_label;
      // As text: Leaflet reads a string tooltip as HTML, and a category's name is not HTML.
      var tip = document.createElement("span");
      tip.textContent = name;
      marker.bindTooltip(tip);
      marker.on("click", function () { window.location.href = m.url; });
      marker.addTo(layer);
      // A link by keyboard too, named as the tooltip names it.
      var dot = marker.getElement();
      if (dot) {
        dot.setAttribute("role", "link");
        dot.setAttribute("tabindex", "0");
        dot.setAttribute("aria-label", name);
        dot.addEventListener("keydown", function (event) {
          if (event.key === "Enter") window.location.href = m.url;
        });
      }
    });
    if (markers.length) {
      map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16, animate: false });
    }
  }

  function boundaryList(el) {
    var map = baseMap(el);
    var data = readJSON(el.dataset.source);
    var layer = L.geoJSON(data, {
      style: { color: "#0b5394", weight: 2, fillOpacity: 0.1 },
      onEachFeature: function (feature, lyr) {
        var link = document.createElement("a");
        link.href = feature.properties.url;
        link.textContent = feature.properties.name;
        lyr.bindPopup(link);
      }
    }).addTo(map);
    if (data && data.features.length) {
      map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
    }
  }

  function boundaryEditor(el) {
    var map = baseMap(el);
    var input = document.getElementById(el.dataset.input);
    var drawn = L.featureGroup().addTo(map);

    function load() {
      drawn.clearLayers();
      var value = input.value.trim();
      if (!value) { return; }
      try {
        L.geoJSON(JSON.parse(value)).eachLayer(function (lyr) {
          // leaflet.draw edits simple polygons: split a MultiPolygon into its parts.
          if (lyr instanceof L.Polygon) {
            var rings = lyr.getLatLngs();
            if (L.LineUtil.isFlat(rings[0])) {
              drawn.addLayer(L.polygon(rings));
            } else {
              rings.forEach(function (part) { drawn.addLayer(L.polygon(part)); });
            }
          }
        });
      } catch (err) {
        return; // the textarea keeps the text; the server explains what is wrong with it
      }
      if (drawn.getLayers().length) {
        map.fitBounds(drawn.getBounds(), { padding: [20, 20], animate: false });
      }
    }

    function save() {
      var polygons = [];
      drawn.eachLayer(function (lyr) { polygons.push(lyr.toGeoJSON().geometry.coordinates); });
      if (!polygons.length) {
        input.value = "";
      } else if (polygons.length === 1) {
        input.value = JSON.stringify({ type: "Polygon", coordinates: polygons[0] });
      } else {
        input.value = JSON.stringify({ type: "MultiPolygon", coordinates: polygons });
      }
    }

    map.addControl(new L.Control.Draw({
      edit: { featureGroup: drawn },
      draw: { polygon: { allowIntersection: false, showArea: true }, rectangle: true,
              polyline: false, circle: false, marker: false, circlemarker: false }
    }));
    map.on(L.Draw.Event.CREATED, function (event) { drawn.addLayer(event.layer); save(); });
    map.on(L.Draw.Event.EDITED, save);
    map.on(L.Draw.Event.DELETED, save);
    input.addEventListener("change", load);
    load();
  }

  function templatePicker(select) {
    // Inserting a response template fills the reply text and, if it names one, the state.
    // Choosing "none" again gives back what the staff member had written and chosen: by
    // keyboard a select changes at each arrow key, so looking through the templates and back
    // to "none" left the last one's text (the staff member's own gone) and its state.
    var templates = readJSON(select.dataset.templates) || {};
    var text = document.getElementById(select.dataset.text);
    var state = document.getElementById(select.dataset.state);
    var own = { text: text.value, state: state ? state.value : "" };
    var inserted = null;  // the template whose text and state the fields hold
    select.addEventListener("change", function () {
      // What was edited since the last insertion is the staff member's own.
      if (!inserted || text.value !== inserted.text) { own.text = text.value; }
      if (state && (!inserted || state.value !== (inserted.state || own.state))) {
        own.state = state.value;
      }
      var chosen = templates[select.value];
      if (!chosen) {
        text.value = own.text;
        if (state) { state.value = own.state; }
        inserted = null;
        return;
      }
      // The template's state when the report may take it, else the staff member's own.
      var proposed = "";
      if (state && chosen.state && state.querySelector('option[value="' + chosen.state + '"]')) {
        proposed = chosen.state;
      }
      text.value = chosen.text;
      if (state) { state.value = proposed || own.state; }
      inserted = { text: chosen.text, state: proposed };
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var kinds = { queue: queueMap, boundaries: boundaryList, editor: boundaryEditor };
    document.querySelectorAll("[data-map-kind]").forEach(function (el) {
      kinds[el.dataset.mapKind](el);
    });
    document.querySelectorAll("select[data-templates]").forEach(templatePicker);
  });
})();
