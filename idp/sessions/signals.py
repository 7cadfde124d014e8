"""Signals other domains listen to, so sessions need not know about them.

``sessions_ended`` is sent with ``session_ids`` (the ``web_sessions`` ids) whenever browser sessions
end: sign-out, a new sign-in over an old session, ending one or all sessions from the security page,
or a password recovery. The OpenID provider revokes what relying services got in those sessions and
tells them over back-channel logout.
"""

from blinker import Namespace

_signals = Namespace()
sessions_ended = _signals.signal("sessions-ended")
