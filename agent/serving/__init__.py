"""Hearth over HTTP: `hearth serve`, its OpenAI-compatible API and the client of it."""
