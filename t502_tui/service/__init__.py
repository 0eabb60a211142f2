"""The service layer: talking to an OpenAI-compatible API. Never imports Textual.

The client lives in :mod:`t502_tui.service.client`, imported where a request is made:
httpx is a tenth of t502's start-up, and the first screen needs none of it.
"""

from t502_tui.service.errors import (
    APIError,
    ConnectionFailed,
    IncompleteReply,
    ServiceError,
    TimedOut,
    TLSFailed,
    TooLarge,
)
from t502_tui.service.events import (
    Completion,
    ContentDelta,
    Finished,
    ImageDelta,
    ModelInfo,
    ReasoningDelta,
    RetryNotice,
    Source,
    SourcesFound,
    StreamEvent,
    Unreadable,
    Usage,
    UsageReport,
)

__all__ = [
    "APIError",
    "Completion",
    "ConnectionFailed",
    "TLSFailed",
    "ContentDelta",
    "Finished",
    "ImageDelta",
    "IncompleteReply",
    "ModelInfo",
    "ReasoningDelta",
    "RetryNotice",
    "ServiceError",
    "Source",
    "SourcesFound",
    "StreamEvent",
    "TimedOut",
    "TooLarge",
    "Unreadable",
    "Usage",
    "UsageReport",
]
