/* The adoption maps (/adopt/, an asset's page, the thanks page): every <div data-adopt-map>
 * gets a map from Civic311Maps.create() and its assets from the json_script element
 * "<map id>-data", drawn as circle markers (available: blue, adopted: green), clustered
 * with Leaflet.markercluster when there are many. Popups are built from DOM nodes. */
(function () {
  "use strict";

  var COLOURS = { available: "#1d4ed8", adopted: "#15803d" };

  function popup(item) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = item.title;
    var meta = document.createElement("div");
    meta.className = "popup-meta";
    meta.textContent = (item.adopted ? "Adopted" : "Available") + " · stop " + item.id;
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.adopted ? "See this shelter" : "Adopt this shelter";
    box.append(title, meta, link);
    return box;
  }

  /* A cluster says how many assets it holds and, by its colour, whether they are all
   * available (blue), all adopted (green) or mixed (half and half); `label` gives each one
   * a title and an accessible name. Classes only: no inline style under the CSP. */
  function clusterIcon(cluster) {
    var children = cluster.getAllChildMarkers();
    var adopted = children.filter(function (m) { return m.options.adopted; }).length;
    var kind = adopted === 0 ? "available" : adopted === children.length ? "adopted" : "mixed";
    return L.divIcon({
      html: "<span>" + children.length + "</span>",
      className: "adopt-cluster adopt-cluster--" + kind,
      iconSize: L.point(40, 40),
    });
  }

  function draw(el) {
    var map = window.Civic311Maps.create(el);
    var source = document.getElementById(el.id + "-data");
    var items = source ? JSON.parse(source.textContent) : [];
    var single = el.dataset.adoptMap === "point";
    var layer = items.length > 30 && L.markerClusterGroup
      ? L.markerClusterGroup({
          showCoverageOnHover: false,
          maxClusterRadius: 40,
          iconCreateFunction: clusterIcon,
        })
      : L.featureGroup();
    items.forEach(function (item) {
      var marker = L.circleMarker([item.lat, item.long], {
        radius: single ? 11 : 8,
        color: "#fff",
        weight: 2,
        fillColor: item.adopted ? COLOURS.adopted : COLOURS.available,
        fillOpacity: 0.95,
        adopted: item.adopted,
      });
      if (!single) marker.bindPopup(popup(item));
      layer.addLayer(marker);
    });
    if (layer.on) {
      layer.on("animationend", label);
      map.on("zoomend moveend", label);
    }
    layer.addTo(map);
    label();
    if (items.length === 1) {
      map.setView([items[0].lat, items[0].long], 16, { animate: false });
    } else if (items.length > 1) {
      map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
    }
  }

  function label() {
    document.querySelectorAll(".adopt-cluster").forEach(function (el) {
      if (el.getAttribute("aria-label")) return;
      var count = el.textContent.trim();
      // Enter (or a click) zooms in: a button, as the report maps' bubbles are.
      el.setAttribute("role", "button");
      var kind = el.classList.contains("adopt-cluster--adopted") ? "all adopted"
        : el.classList.contains("adopt-cluster--mixed") ? "some adopted" : "all available";
      el.setAttribute("aria-label", count + " shelters, " + kind + ": press Enter to zoom in");
      el.title = count + " shelters, " + kind;
    });
  }

  document.querySelectorAll("[data-adopt-map]").forEach(draw);
})();
