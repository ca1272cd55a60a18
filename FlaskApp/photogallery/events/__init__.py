"""Photo events (photo.uploaded, photo.labelled, photo.deleted) for other consumers."""
