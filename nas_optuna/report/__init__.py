"""The sampler comparison report: data collection, metrics, figures, cell diagrams, HTML."""
