"""Signals other domains listen to, so sessions (and registration) need not know about them.

``sessions_ended`` is sent with ``session_ids`` (the ``web_sessions`` ids) whenever browser sessions
end: sign-out, a new sign-in over an old session, ending one or all sessions from the security page,
or a password recovery. The OpenID provider revokes what relying services got in those sessions and
tells them over back-channel logout.
"""

from blinker import Namespace

_signals = Namespace()
sessions_ended = _signals.signal("sessions-ended")
# Sent with ``profile``, ``next_url`` (where the registration goes on) and ``link_account`` (the
# person ticked the service account waiting to be linked) when a registration creates a profile.
profile_registered = _signals.signal("profile-registered")
