"""One router per resource: health, models, generation, metrics."""
