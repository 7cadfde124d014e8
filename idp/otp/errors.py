"""What can go wrong with an SMS code. Each error carries what the page needs to say."""


class OtpError(Exception):
    """Base of SMS code errors."""


class CodeInvalid(OtpError):
    """The code is wrong; ``remaining`` tries are left."""

    def __init__(self, remaining: int):
        super().__init__(remaining)
        self.remaining = remaining


class CodeExpired(OtpError):
    """The code's lifetime is over; a new one can be sent."""


class AttemptsExhausted(OtpError):
    """Too many wrong codes: the flow must start again."""


class FlowUnknown(OtpError):
    """No live challenge belongs to this flow (ended, used or never started)."""


class ResendTooSoon(OtpError):
    """A new code may be sent only after ``seconds`` more seconds."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


class BudgetExceeded(OtpError):
    """The SMS budget of this number, address or prefix is spent for now."""


class ProofRequired(OtpError):
    """A shared budget is spent: the SMS goes out once the browser solves a proof of work."""


class BudgetUnavailable(OtpError):
    """The budgets cannot be counted (their storage is unreachable), so no SMS is sent."""
