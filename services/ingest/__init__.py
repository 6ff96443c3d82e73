"""ingest: owns articles, revisions, workflow state, inbound webhooks and importers."""
