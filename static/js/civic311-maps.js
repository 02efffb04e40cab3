/* Civic311 maps (home, list, report page; the report form builds on create()).
 * Every map is a <div data-map="reports|point|form">; the centre, zoom and tiles come from
 * the json_script element "map-config", the markers from one named "<map id>-data".
 * No inline script: the Content-Security-Policy forbids it (so no {% leaflet_map %}).
 * Another page's script, loaded after this one, makes its map with
 * Civic311Maps.create(element) (the view adds MapMixin for "map-config"). Reports are drawn as circle
 * markers coloured by status, which need no marker images. Tiles may fail to load
 * (offline, blocked): the map stays usable on its grey background. */
(function () {
  "use strict";

  var COLOURS = { open: "#c2410c", closed: "#15803d" };

  function create(el) {
    var config = JSON.parse(document.getElementById("map-config").textContent);
    var map = L.map(el, {
      center: config.center,
      zoom: config.zoom,
      minZoom: config.minZoom,
      maxZoom: config.maxZoom,
    });
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
    return map;
  }

  function readData(map) {
    var el = document.getElementById(map.getContainer().id + "-data");
    return el ? JSON.parse(el.textContent) : [];
  }

  function popup(item) {
    // Built with DOM nodes, not HTML strings: category names come from the database.
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = item.title + " #" + item.id;
    var meta = document.createElement("div");
    meta.className = "popup-meta";
    meta.textContent = item.state + " · " + item.date;
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = "View report";
    box.append(title, meta, link);
    return box;
  }

  function marker(item, radius) {
    var colour = COLOURS[item.status] || COLOURS.open;
    return L.circleMarker([item.lat, item.long], {
      radius: radius,
      color: "#fff",
      weight: 2,
      fillColor: colour,
      fillOpacity: 0.9,
    });
  }

  function reports(map) {
    var items = readData(map);
    var layer = L.featureGroup();
    items.forEach(function (item) {
      marker(item, 8).bindPopup(popup(item)).addTo(layer);
    });
    layer.addTo(map);
    if (items.length > 1) {
      map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
    } else if (items.length === 1) {
      map.setView([items[0].lat, items[0].long], 16, { animate: false });
    }
  }

  function point(map) {
    var items = readData(map);
    if (!items.length) {
      map.getContainer().classList.add("map--empty");
      return;
    }
    var item = items[0];
    marker(item, 11).addTo(map);
    map.setView([item.lat, item.long], 16, { animate: false });
  }

  window.Civic311Maps = { create: create, reports: reports, point: point, marker: marker };

  var kinds = { reports: reports, point: point };
  document.querySelectorAll("[data-map]").forEach(function (el) {
    var draw = kinds[el.dataset.map];
    if (draw) draw(create(el));
  });
})();
