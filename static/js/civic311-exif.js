/* Reads the GPS position from a JPEG photo's EXIF data in the browser, so the report form
 * can offer to put the pin where the photo was taken. Only the first 256 KB are read; the
 * server strips EXIF from every published photo anyway. Exposes
 * Civic311Exif.readGps(file) -> Promise of {lat, lng} or null. */
(function () {
  "use strict";

  var HEAD_BYTES = 256 * 1024;

  function rational(view, offset, little) {
    var num = view.getUint32(offset, little);
    var den = view.getUint32(offset + 4, little);
    return den ? num / den : NaN;
  }

  function degrees(view, offset, little) {
    return (
      rational(view, offset, little) +
      rational(view, offset + 8, little) / 60 +
      rational(view, offset + 16, little) / 3600
    );
  }

  // The entries of an IFD as {tag: {type, count, valueOffset}} (offsets from the TIFF start).
  function entries(view, tiff, ifd, little) {
    var found = {};
    if (tiff + ifd + 2 > view.byteLength) return found;
    var count = view.getUint16(tiff + ifd, little);
    for (var i = 0; i < count; i++) {
      var at = tiff + ifd + 2 + i * 12;
      if (at + 12 > view.byteLength) break;
      found[view.getUint16(at, little)] = {
        type: view.getUint16(at + 2, little),
        count: view.getUint32(at + 4, little),
        inline: at + 8,
        offset: view.getUint32(at + 8, little),
      };
    }
    return found;
  }

  function parseGps(view) {
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null; // not a JPEG
    var at = 2;
    while (at + 4 <= view.byteLength) {
      var marker = view.getUint16(at);
      var size = view.getUint16(at + 2);
      if (marker === 0xffe1 && at + 10 <= view.byteLength && view.getUint32(at + 4) === 0x45786966) {
        var tiff = at + 10; // after "Exif\0\0"
        var little = view.getUint16(tiff) === 0x4949;
        var ifd0 = entries(view, tiff, view.getUint32(tiff + 4, little), little);
        var pointer = ifd0[0x8825];
        if (!pointer) return null;
        var gps = entries(view, tiff, pointer.offset, little);
        var latRef = gps[1], lat = gps[2], lngRef = gps[3], lng = gps[4];
        if (!lat || !lng || lat.type !== 5 || lng.type !== 5) return null;
        if (tiff + lat.offset + 24 > view.byteLength || tiff + lng.offset + 24 > view.byteLength) return null;
        var latValue = degrees(view, tiff + lat.offset, little);
        var lngValue = degrees(view, tiff + lng.offset, little);
        if (latRef && String.fromCharCode(view.getUint8(latRef.inline)) === "S") latValue = -latValue;
        if (lngRef && String.fromCharCode(view.getUint8(lngRef.inline)) === "W") lngValue = -lngValue;
        if (!isFinite(latValue) || !isFinite(lngValue) || (latValue === 0 && lngValue === 0)) return null;
        return { lat: latValue, lng: lngValue };
      }
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // image data: no EXIF
      at += 2 + size;
    }
    return null;
  }

  function readGps(file) {
    if (!file || !/jpe?g$/i.test(file.type || file.name)) return Promise.resolve(null);
    return file
      .slice(0, HEAD_BYTES)
      .arrayBuffer()
      .then(function (buffer) {
        try {
          return parseGps(new DataView(buffer));
        } catch (error) {
          return null; // a truncated or odd file: no offer, nothing else changes
        }
      });
  }

  window.Civic311Exif = { readGps: readGps, parseGps: parseGps };
})();
