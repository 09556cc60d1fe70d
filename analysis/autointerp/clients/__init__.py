"""Clients the explainer and the yes/no judges talk to: a local Hugging Face chat model
(offline) and any OpenAI-compatible chat-completions server."""

from saekit.analysis.autointerp.clients.base import Client, ClientError, yes_share
from saekit.analysis.autointerp.clients.local import LocalClient
from saekit.analysis.autointerp.clients.openai import OpenAIClient, OpenAIConfig

__all__ = ["Client", "ClientError", "LocalClient", "OpenAIClient", "OpenAIConfig", "yes_share"]
