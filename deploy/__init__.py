"""Deployment tools: the local launcher (`make up`), process definitions, the image and demo content."""
