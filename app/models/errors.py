"""Errors shared by the model loaders (embedders now, packaged LLM files next)."""


class ModelMissingError(RuntimeError):
    """A configured model is not installed; the message says how to install it."""
