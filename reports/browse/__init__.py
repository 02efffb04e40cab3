"""Browsing public reports by place: the list's filters (area, text, near a point, dates),
keyset pages, the map's server-side clusters, and the neighbourhood pages."""
