"""A WSGI response body passed through as it is, with a hook run once the server has closed it.

A middleware that must know how a request ended (its status, its duration) learns it when the
server closes the body: a streamed answer is only then fully sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


class ClosingBody:
    """The response body, passed through; ``on_close`` runs once the server has sent it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self.on_close = self.on_close, None  # once, however often a server closes
            if on_close is not None:
                on_close()
