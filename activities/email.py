"""E-mail over SMTP, with STARTTLS or implicit TLS (``security``: ``starttls`` | ``tls``; ``none`` only
for a relay on loopback), credentials from the channel configuration.

SMTP has no idempotency key, so the key travels in the headers: ``Message-ID`` is derived from it
(``<sha256(key)@domain>``: the same notification always has the same Message-ID, and mail systems and
archives dedupe on it) and ``X-Idempotency-Key`` / ``X-Notification-Key`` carry it as is. Errors: a
5xx reply, a refused recipient or a refused login are permanent (non-retryable ``DeliveryRejected``);
4xx replies, timeouts and connection failures are retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from datetime import datetime

from activities.channels import Delivery
from activities.http import KEY_HEADER, NOTIFICATION_KEY_HEADER, rejected, unavailable


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{domain}>"


class EmailChannel:
    """One SMTP submission account."""

    real = True
    acknowledges = False

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        timeout: float = 15.0,
        domain: str = "judicial-emergency.invalid",
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.domain = domain
        self._tls = ssl.create_default_context(cafile=ca_file) if security != "none" else None

    def compose(self, delivery: Delivery, to: str) -> EmailMessage:
        req = delivery.request
        msg = EmailMessage()
        drill = "【演练】" if req.drill else ""
        # no personal data in the subject line: incident type, step, clause only
        msg["Subject"] = f"{drill}应急通知 {req.incident_type} {req.step}({req.clause})"
        msg["From"] = self.sender
        msg["To"] = to
        msg["Date"] = format_datetime(datetime.fromisoformat(delivery.delivered_at))
        msg["Message-ID"] = message_id(delivery.key, self.domain)
        msg[KEY_HEADER] = delivery.key
        msg[NOTIFICATION_KEY_HEADER] = req.idempotency_key
        msg.set_content(f"{delivery.recipient_name_zh}:\n\n{req.message_zh}\n\n[{req.idempotency_key}]\n")
        return msg

    async def deliver(self, delivery: Delivery) -> bool:
        to = (delivery.address or "").strip()
        if "@" not in parseaddr(to)[1]:
            raise rejected(self.name, "no e-mail address for this recipient")
        msg = self.compose(delivery, to)
        await asyncio.to_thread(self._send, msg, to)
        return False

    def _send(self, msg: EmailMessage, to: str) -> None:
        try:
            smtp: smtplib.SMTP
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.security == "starttls":
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg, from_addr=self.sender, to_addrs=[to])
        except smtplib.SMTPNotSupportedError:
            raise rejected(self.name, "the server does not offer STARTTLS or AUTH") from None
        except smtplib.SMTPAuthenticationError as err:
            raise rejected(self.name, f"login refused (SMTP {err.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as err:
            codes = [c for c, _ in err.recipients.values()]
            if all(400 <= c < 500 for c in codes):
                raise unavailable(self.name, f"recipient deferred (SMTP {codes[0]})") from None
            raise rejected(self.name, f"recipient refused (SMTP {codes[0] if codes else '?'})") from None
        except smtplib.SMTPResponseException as err:
            if 400 <= err.smtp_code < 500:
                raise unavailable(self.name, f"SMTP {err.smtp_code}") from None
            raise rejected(self.name, f"SMTP {err.smtp_code}") from None
        except ssl.SSLCertVerificationError:
            raise rejected(self.name, "TLS certificate not trusted (set ca_file)") from None
        except (OSError, smtplib.SMTPException) as err:
            raise unavailable(self.name, f"cannot deliver ({type(err).__name__})") from None
