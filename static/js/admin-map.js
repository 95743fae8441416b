// Starts Django's map widget for the admin field whose wrapper holds this script
// (templates/gis/openlayers.html): what Django's inline script did, from a file, so that the
// Content-Security-Policy need not allow inline script. A classic script, run where it stands.
"use strict";

(() => {
  const wrapper = document.currentScript.closest(".dj_map_wrapper");
  // OpenLayers comes from Django's CDN address: without internet there is no map, as with Django's.
  if (typeof ol === "undefined" || typeof MapWidget === "undefined") return;
  const data = wrapper.dataset;
  const options = {
    // Django's own base layer; dispatch/core/csp.py allows these tile hosts on the admin pages.
    base_layer: new ol.layer.Tile({
      source: new ol.source.XYZ({
        attributions: "NASA Worldview",
        maxZoom: 8,
        url: "https://map1{a-c}.vis.earthdata.nasa.gov/wmts-webmerc/BlueMarble_ShadedRelief_Bathymetry/default/%7BTime%7D/GoogleMapsCompatible_Level8/{z}/{y}/{x}.jpg",
      }),
    }),
    geom_name: data.geomName,
    id: data.id,
    map_id: `${data.id}_map`,
    map_srid: Number(data.mapSrid),
    name: data.name,
  };
  window[data.module] = new MapWidget(options);
})();
