"""The service layer: talking to an OpenAI-compatible API. Never imports Textual."""

from t502_tui.service.client import ChatClient, RetryNotice
from t502_tui.service.errors import (
    APIError,
    ConnectionFailed,
    IncompleteReply,
    ServiceError,
    TimedOut,
    TooLarge,
)
from t502_tui.service.events import (
    Completion,
    ContentDelta,
    Finished,
    ImageDelta,
    ModelInfo,
    ReasoningDelta,
    StreamEvent,
    Usage,
    UsageReport,
)

__all__ = [
    "APIError",
    "ChatClient",
    "Completion",
    "ConnectionFailed",
    "ContentDelta",
    "Finished",
    "ImageDelta",
    "IncompleteReply",
    "ModelInfo",
    "ReasoningDelta",
    "RetryNotice",
    "ServiceError",
    "StreamEvent",
    "TimedOut",
    "TooLarge",
    "Usage",
    "UsageReport",
]
