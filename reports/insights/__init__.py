"""Open data and insights: the public dashboard, hotspots, exports, the data catalogue,
feeds and area alerts. Everything public reads through ServiceRequest.objects.public()."""
