"""Model registries: versioned, atomic publishing of blessed models with their model cards.

`FilesystemRegistry` (the default) keeps TF Serving's version layout on a local path or gs://;
`vertex` builds uploads to the Vertex AI Model Registry. `python -m components.registry` lists,
shows, promotes, rolls back and cleans up a filesystem registry.
"""
from components.registry.filesystem import FilesystemRegistry, NotFoundError, Version
from components.registry.model_card import ModelCard

__all__ = ['FilesystemRegistry', 'ModelCard', 'NotFoundError', 'Version']
