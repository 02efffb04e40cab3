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

  /* A browsing map (the list, a neighbourhood): every report matching the page's filters,
   * fetched for the current view from the JSON endpoint named in "<map id>-browse". The
   * server answers points when few are in view (clustered here by Leaflet.markercluster)
   * or counts on a grid (drawn as cluster bubbles that zoom in). Every marker is a
   * keyboard-focusable button, and the list "What the map shows" repeats it in text. */
  var NUMBER = new Intl.NumberFormat("en-US");
  var COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
  var TEXT_LIMIT = 60;

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function withParams(url, params) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + params;
  }

  // A div icon that names itself: Leaflet makes a marker's icon a focusable button, and a
  // screen reader needs to hear what it stands for.
  var LabelledIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.setAttribute("aria-label", this.options.label);
      div.title = this.options.label;
      return div;
    },
  });

  function bubble(count, label) {
    var size = count < 10 ? "small" : count < 1000 ? "medium" : "large";
    var box = document.createElement("div");
    var text = document.createElement("span");
    text.textContent = COMPACT.format(count);
    text.setAttribute("aria-hidden", "true");
    box.appendChild(text);
    return new LabelledIcon({
      html: box, label: label, className: "cluster cluster--" + size, iconSize: L.point(44, 44),
    });
  }

  function dot(status, label) {
    return new LabelledIcon({
      html: "",
      label: label,
      className: "report-dot report-dot--" + (status === "closed" ? "closed" : "open"),
      iconSize: L.point(20, 20),
    });
  }

  function textItem(list, label, href, linkText) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = href;
    link.textContent = linkText;
    li.append(label + " ", link);
    list.appendChild(li);
  }

  function browse(map) {
    var el = map.getContainer();
    var config = JSON.parse(document.getElementById(el.id + "-browse").textContent);
    var text = document.getElementById(el.id + "-text");
    var summary = text && text.querySelector(".map-text__summary");
    var list = text && text.querySelector(".map-text__list");
    var detail = function (id) { return config.detail.replace("/0/", "/" + id + "/"); };
    var points = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 40,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        return bubble(n, NUMBER.format(n) + " reports close together: press Enter to zoom in");
      },
    }).addTo(map);
    var cells = L.layerGroup().addTo(map);
    var latest = 0;

    if (config.outline) {
      L.geoJSON(config.outline, {
        interactive: false,
        style: { color: "#1e3a5f", weight: 3, fill: true, fillOpacity: 0.04 },
      }).addTo(map);
    }
    if (config.near) {
      var circle = L.circle([config.near[0], config.near[1]], {
        radius: config.near[2], interactive: false, color: "#1d5fa8", weight: 2, fillOpacity: 0.05,
      }).addTo(map);
      map.fitBounds(circle.getBounds(), { animate: false });
    } else if (config.fit) {
      map.fitBounds(config.fit, { padding: [12, 12], animate: false });
    }

    function say(message) {
      if (summary) summary.textContent = message;
    }

    function drawPoints(rows) {
      var markers = rows.map(function (row) {
        var item = { id: row[0], lat: row[1], lng: row[2], title: row[4], date: row[5], url: detail(row[0]),
                     state: row[3] === "closed" ? "Closed" : "Open" };
        var label = item.title + " #" + item.id + ", " + item.state.toLowerCase() + ", " + item.date;
        return L.marker([item.lat, item.lng], { icon: dot(row[3], label) })
          .bindPopup(popup(item));
      });
      points.addLayers(markers);
      say(rows.length ? "The map shows " + NUMBER.format(rows.length) + " report" +
          (rows.length === 1 ? "" : "s") + " here." : "No matching reports in this part of the map.");
      rows.slice(0, TEXT_LIMIT).forEach(function (row) {
        textItem(list, (row[3] === "closed" ? "Closed" : "Open") + ", " + row[5] + ":",
                 detail(row[0]), row[4] + " #" + row[0]);
      });
    }

    function drawCells(data) {
      var height = data.cell[0], width = data.cell[1];
      var rows = data.clusters.slice().sort(function (a, b) { return b[2] - a[2]; });
      rows.forEach(function (c) {
        var bounds = [[c[4] * height, c[5] * width], [(c[4] + 1) * height, (c[5] + 1) * width]];
        var label = NUMBER.format(c[2]) + " reports (" + NUMBER.format(c[3]) + " open): press Enter to zoom in";
        L.marker([c[0], c[1]], { icon: bubble(c[2], label) })
          .on("click keypress", function (event) {
            if (event.type === "keypress" && event.originalEvent.key !== "Enter") return;
            map.fitBounds(bounds, { animate: false });
          })
          .addTo(cells);
      });
      say("The map shows " + NUMBER.format(data.total) + " reports in " +
          NUMBER.format(rows.length) + " groups.");
      rows.slice(0, TEXT_LIMIT).forEach(function (c) {
        var box = [c[4] * height, c[5] * width, (c[4] + 1) * height, (c[5] + 1) * width]
          .map(function (n) { return n.toFixed(5); }).join(",");
        textItem(list, NUMBER.format(c[2]) + " reports (" + NUMBER.format(c[3]) + " open) around " +
                 c[0].toFixed(4) + ", " + c[1].toFixed(4) + ":",
                 withParams(config.list, "bbox=" + box), "list them");
      });
    }

    // What was fetched last: a view inside it at the same zoom needs no new answer (and a
    // popup's own panning must not redraw the markers under it, which would close it).
    var loaded = null;
    var loadedZoom = null;

    function load() {
      if (loaded && loadedZoom === map.getZoom() && loaded.contains(map.getBounds())) return;
      var b = map.getBounds().pad(0.25);
      loaded = b;
      loadedZoom = map.getZoom();
      var box = [clamp(b.getSouth(), -90, 90), clamp(b.getWest(), -180, 180),
                 clamp(b.getNorth(), -90, 90), clamp(b.getEast(), -180, 180)]
        .map(function (n) { return n.toFixed(5); }).join(",");
      var mine = ++latest;
      el.setAttribute("aria-busy", "true");
      fetch(withParams(config.source, "bbox=" + box + "&zoom=" + map.getZoom()),
            { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (data) {
          if (mine !== latest) return;
          points.clearLayers();
          cells.clearLayers();
          if (list) list.replaceChildren();
          if (data.points) drawPoints(data.points); else drawCells(data);
          el.setAttribute("aria-busy", "false");
          keepFocus();
        })
        .catch(function () {
          if (mine !== latest) return;
          loaded = null;
          el.setAttribute("aria-busy", "false");
          say("The map could not load the reports. The list still shows them.");
        });
    }

    // Enter on a bubble zooms in, and the markers drawn again replace the one that had the
    // focus: a keyboard user is put back on the map (arrows pan, Tab reaches the new
    // markers) rather than at the top of the page.
    var lastKey = 0;
    el.addEventListener("keydown", function () { lastKey = Date.now(); });
    function keepFocus() {
      var lost = !document.activeElement || document.activeElement === document.body;
      if (lost && Date.now() - lastKey < 3000) el.focus({ preventScroll: true });
    }
    map.on("zoomend", function () { setTimeout(keepFocus, 0); });
    points.on("animationend", keepFocus);
    map.on("moveend", load);
    load();
  }

  window.Civic311Maps =  window.Civic311Maps = { create: create, reports: reports, point: point, marker: marker };

  var kinds = { reports: reports, point: point, browse: browse };
  document.querySelectorAll("[data-map]").forEach(function (el) {
    var draw = kinds[el.dataset.map];
    if (draw) draw(create(el));
  });
})();
