"""Where a latent fires and what its contexts are, in one core place: latent sources (a
dictionary, raw neurons, token indicators), one ordered pass that records where each fires,
token spans around those rows inside their windows, and the top contexts of the feature
statistics. Auto-interp, the report's dashboards and circuits read contexts from here."""
