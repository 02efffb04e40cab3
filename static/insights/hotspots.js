/* The hotspot map: grid cells and neighbourhoods, counted by the server (json_script
 * "hotspot-map-data"). Clicking a cell or a neighbourhood opens the list of its reports.
 * The ranked tables beside the map carry the same numbers and links for keyboard and
 * screen-reader users, and a link before the map skips to them. */
(function () {
  "use strict";

  // Fewer to more, as .heat-0 to .heat-4 in insights.css (the legend): each step at least
  // 3:1 against white, and a dark outline sets every cell off the map's tiles.
  var HEAT = ["#d66a00", "#c2410c", "#a3161a", "#700d0d", "#3d0505"];
  var OUTLINE = "#1f2933";

  function link(base, key, value) {
    return base + (base.indexOf("?") === -1 ? "?" : "&") + key + "=" + encodeURIComponent(value);
  }

  /* A tooltip makes its shape focusable (Leaflet listens for focus to show it), and a city
   * has a few hundred cells: each was an unnamed Tab stop that Enter did not open, between
   * the filters and the ranked lists. The shapes stay out of the Tab order and hidden from
   * screen readers; the lists give every count and link in text. */
  function pointerOnly(layer) {
    layer.on("add", function () {
      var shape = layer.getElement && layer.getElement();
      if (!shape) { return; }
      shape.setAttribute("tabindex", "-1");
      shape.setAttribute("aria-hidden", "true");
    });
  }

  function init(map) {
    var el = document.getElementById("hotspot-map-data");
    if (!el) { return; }
    var data = JSON.parse(el.textContent);
    var cells = L.layerGroup();
    var bounds = null;
    data.cells.forEach(function (c) {
      var box = [[c[0], c[1]], [c[2], c[3]]];
      var rect = L.rectangle(box, {
        color: OUTLINE, weight: 1, opacity: 0.9, fillColor: HEAT[c[5]], fillOpacity: 0.85,
      });
      rect.bindTooltip(c[4] + (c[4] === 1 ? " report" : " reports"));
      rect.on("click", function () {
        window.location.href = link(data.listUrl, "cell_bounds", c.slice(0, 4).join(","));
      });
      pointerOnly(rect);
      rect.addTo(cells);
      bounds = bounds ? bounds.extend(box) : L.latLngBounds(box);
    });
    var areas = L.geoJSON(null, {
      style: function (feature) {
        return {
          color: "#1e3a5f", weight: 1.5,
          fillColor: HEAT[feature.properties.heat], fillOpacity: feature.properties.count ? 0.6 : 0.1,
        };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        // As text: Leaflet reads a string tooltip as HTML, and an area's name (imported
        // from the city's GeoJSON) is not HTML.
        var tip = document.createElement("span");
        tip.textContent = p.name + ": " + p.count + (p.count === 1 ? " report" : " reports");
        layer.bindTooltip(tip);
        layer.on("click", function () { window.location.href = p.url; });
        pointerOnly(layer);
      },
    });
    data.areas.forEach(function (a) {
      areas.addData({
        type: "Feature", geometry: a.geometry,
        properties: { id: a.id, name: a.name, count: a.count, heat: a.heat, url: a.url },
      });
    });
    cells.addTo(map);
    L.control.layers({ "Grid cells": cells, "Neighbourhoods": areas }, null, { collapsed: false }).addTo(map);
    if (bounds) { map.fitBounds(bounds, { padding: [10, 10], maxZoom: 14 }); }
  }

  window.Civic311Hotspots = { init: init };

  // civic311-maps.js (loaded before this file) makes the map: no inline script under the CSP.
  var el = document.getElementById("hotspot-map");
  if (el && window.L && window.Civic311Maps) init(window.Civic311Maps.create(el));
})();
