"""Attention maps of a served Residual Attention Network, drawn over the images.

`overlay` draws maps over an image (`overlay.render_overlays` -> PNG or JPEG bytes, no
TensorFlow);
`served` asks a SavedModel's `attention_maps` signature and renders its answer;
`python -m components.attention_maps` writes one figure per image file.
"""
