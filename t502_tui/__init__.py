"""t502: a full-screen terminal chat client for Token502 and OpenAI-compatible APIs."""

__version__ = "0.1.0"
