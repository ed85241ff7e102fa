"""The assessment: pure functions of (frames, config, as_of)."""
