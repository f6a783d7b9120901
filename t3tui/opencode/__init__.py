"""All I/O with an opencode server: wire models, the REST client, the event stream, the embedded server."""
