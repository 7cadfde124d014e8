"""E-mail over an SMTP relay with Flask-Mail: multipart text + HTML in the recipient's language."""

from __future__ import annotations

import smtplib

from flask_mail import Message as MailMessage

from idp.delivery.models import Message
from idp.delivery.transports import ReceiptHandler, TransportError
from idp.extensions import mail


def _is_permanent(code: int | None) -> bool:
    return code is not None and 500 <= code < 600


class SmtpTransport:
    """Send through ``IDP_MAIL_SERVER``; 4xx answers and lost connections are retried, 5xx not."""

    name = "smtp"
    inline = False

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        mail_message = MailMessage(
            subject=message.subject or "",
            recipients=[message.recipient],
            body=text,
            html=html,
            extra_headers={"Auto-Submitted": "auto-generated", "Content-Language": message.locale},
        )
        try:
            mail.send(mail_message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(
                f"recipient refused: {codes}", temporary=not all(_is_permanent(c) for c in codes)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", temporary=not _is_permanent(exc.smtp_code)
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP relay unavailable: {exc.__class__.__name__}: {exc}") from exc
        return [mail_message.msgId]

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """SMTP sends nothing back on this connection."""

    def close(self) -> None:
        """Flask-Mail opens a connection per message."""
