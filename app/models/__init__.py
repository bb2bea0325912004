"""Model files and loaders: the packaged embedders (MiniLM, mpnet), offline, never downloaded."""
