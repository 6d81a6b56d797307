"""The duty board (值班看板): an aiohttp app, server-rendered (Jinja2), usable on a phone.

    python -m web                          # 127.0.0.1:8235; ./dev.sh up starts it beside the Web UI

Pages: ``/board`` (值班看板), ``/incidents/<id>`` (事件详情, with the report forms), ``/incidents/<id>/report.pdf``
(书面报告), ``/duties`` (我的待办), ``/d/<token>`` (a duty message's signed link), ``/login``.

Security: a session (aiohttp-session, encrypted cookie, HttpOnly, SameSite=Lax, ``Secure`` with
``BOARD_COOKIE_SECURE=1``), a CSRF token per session checked on every POST (the synchronizer-token
pattern: the token lives in the encrypted session and in each form; no maintained aiohttp CSRF library
exists, and this is the few lines that pattern needs), a strict Content-Security-Policy (scripts and
styles from ``/static`` only), ``Cache-Control: no-store``. A person sees only their bureau: every
incident is read through :class:`web.service.Board`, which answers 404 outside their namespace and
county. Logs carry the route, the status and the opaque account id: never a query string, a token or
personal data.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from temporalio.service import RPCError

from infra.codec import CodecConfigError

from plan.agencies import Agency
from plan.labels import clause_zh, codes_in_text_zh, waiting_zh
from plan.models import DeadlineStatus, EntryKind, Flow, IncidentPhase, ObligationStatus, Source


def _labels(enum: Any) -> dict[Any, str]:
    """An enum's Chinese labels (on the members, plan/labels.py ZhEnum) keyed by member and code."""
    return {m: m.zh for m in enum}
from plan.texts import fmt_time
from starter.api import InvalidInput, ReportRefused
from web.config import Account, Accounts
from web.duties import CONFIRM_ZH, FORM_ZH, Duty, confirmation_report, duty_id_from_key
from web.forms import MODELS, ReportForm, blank_form, parse_form
from web.links import REFUSED_ZH, USED_ZH, DutyLinks, LinkClaim, LinkError, derived_key
from web.refusals import reason_zh
from web.service import Board, NotFound

log = structlog.get_logger("web.board")
HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
CSRF_FIELD = "_csrf"

ACCOUNTS = web.AppKey("accounts", Accounts)
BOARD = web.AppKey("board", Board)
LINKS = web.AppKey("links", DutyLinks)
HASHER = PasswordHasher()
MAX_FAILURES, LOCKOUT_SECONDS = 5, 15 * 60
"""Sign-in throttle: after 5 wrong passwords for one account within 15 minutes, that account's
password sign-in pauses for 15 minutes (its duty links still work)."""
FAILURES = web.AppKey("failures", dict)
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))  # equal work for an unknown account


def type_titles() -> dict[str, str]:
    from workflows import INCIDENT_WORKFLOWS

    return {t.value: wf.TITLE_ZH for t, wf in INCIDENT_WORKFLOWS.items()}


# ---------------------------------------------------------------------------------- helpers


def iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat() if at else ""


def countdown_zh(due: datetime | None, now: datetime | None = None) -> str:
    """剩余 1小时05分 / 已超时 12分 (what the page shows before its script updates it)."""
    if due is None:
        return ""
    now = now or datetime.now(UTC)
    left = int((due - now).total_seconds())
    sign, left = ("已超时 ", -left) if left < 0 else ("剩余 ", left)
    h, rem = divmod(left, 3600)
    m = rem // 60
    return sign + (f"{h}小时{m:02d}分" if h else f"{m}分")


async def current(request: web.Request) -> tuple[Account | None, Any]:
    """The signed-in account (None when not signed in or the account is gone) and the session."""
    session = await get_session(request)
    uid = session.get("uid")
    account = request.app[ACCOUNTS].get(uid) if isinstance(uid, str) else None
    if account is None or session.get("ns") != account.namespace:
        return None, session
    return account, session


def csrf_token(session: Any) -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def require_account(request: web.Request, *, full: bool = True) -> tuple[Account, Any]:
    account, session = await current(request)
    if account is None or (full and session.get("scope") != "full"):
        raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path}))
    return account, session


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def page(request: web.Request, template: str, account: Account | None, session: Any,
               status: int = 200, **context: Any) -> web.Response:
    return render(request, template, {"account": account, "csrf": csrf_token(session),
                                      "full": session.get("scope") == "full", **context}, status=status)


# ---------------------------------------------------------------------------------- middleware


@web.middleware
async def security(request: web.Request, handler: Any) -> web.StreamResponse:
    started = time.monotonic()
    status = 500
    try:
        if request.method == "POST":
            session = await get_session(request)
            form = await request.post()
            given = form.get(CSRF_FIELD)
            expected = session.get("csrf")
            if not (isinstance(given, str) and isinstance(expected, str)
                    and hmac.compare_digest(given.encode(), expected.encode())):
                log.warning("form refused", reason="csrf token missing or wrong", route=_route(request))
                raise web.HTTPForbidden(text="表单已失效,请返回刷新页面后重试。", content_type="text/plain")
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        _headers(exc)
        raise
    except CodecConfigError as err:  # keys missing or not the incident's: one line, no traceback
        status = 503
        log.error("incident data unreadable", route=_route(request), error=str(err)[:200])
        raise web.HTTPServiceUnavailable(text="无法解密事件数据:本看板未配置相应密钥,请联系系统管理员。",
                                         content_type="text/plain") from None
    except RPCError as err:
        status = 503
        log.error("temporal unavailable", route=_route(request), error=err.message[:200])
        raise web.HTTPServiceUnavailable(text="暂时无法连接事件系统,请稍后重试。", content_type="text/plain") from None
    finally:
        log.info("request", method=request.method, route=_route(request), status=status,
                 ms=round((time.monotonic() - started) * 1000))
    _headers(response)
    return response


def _route(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "?"


def _headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")


# ---------------------------------------------------------------------------------- sign-in


async def login_page(request: web.Request) -> web.Response:
    account, session = await current(request)
    return await page(request, "login.html", account, session, next=_safe_next(request.query.get("next")))


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/board"


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    uid, password = str(form.get("account", "")).strip()[:40], str(form.get("password", ""))
    account = request.app[ACCOUNTS].get(uid)
    failures: dict[str, list[float]] = request.app[FAILURES]
    now = time.monotonic()
    recent = [t for t in failures.get(uid, []) if now - t < LOCKOUT_SECONDS]
    if len(recent) >= MAX_FAILURES:
        log.warning("sign-in refused", route="/login", reason="throttled")
        session = await get_session(request)
        return await page(request, "login.html", None, session, status=429, next=_safe_next(str(form.get("next", ""))),
                          error="密码错误次数过多,请15分钟后再试,或使用值班任务短信中的链接。")
    ok = False
    try:
        ok = HASHER.verify(account.password_hash if account and account.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or not account.password_hash:
        if len(failures) < 10_000:  # bounded: unknown ids cannot grow it without limit
            failures[uid] = [*recent, now]
        log.warning("sign-in refused", route="/login")
        session = await get_session(request)
        return await page(request, "login.html", None, session, status=401, next=_safe_next(str(form.get("next", ""))),
                          error="账号或密码不正确。")
    failures.pop(uid, None)
    session = await new_session(request)  # a new session id on sign-in (no fixation)
    session.update({"uid": account.id, "ns": account.namespace, "scope": "full", "csrf": secrets.token_urlsafe(32)})
    log.info("signed in", account=account.id)
    raise web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/login")


# ---------------------------------------------------------------------------------- board


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/board")


async def board(request: web.Request) -> web.Response:
    account, session = await require_account(request)
    office = request.query.get("office", "").strip()
    itype = request.query.get("type", "").strip()
    overdue = request.query.get("overdue") == "1"
    titles = type_titles()
    if itype and itype not in titles:
        itype = ""
    try:
        rows = await request.app[BOARD].rows(account, office=office or None, incident_type=itype or None,
                                             overdue=overdue)
    except ValueError:  # a filter value with quotes
        rows, office = [], ""
    offices = sorted({r.office for r in rows} | ({account.office} if account.office else set()) | ({office} if office else set()))
    return await page(request, "board.html", account, session, rows=rows, titles=titles, office=office,
                      itype=itype, overdue=overdue, offices=offices)


async def incident(request: web.Request) -> web.Response:
    account, session = await require_account(request)
    return await _incident_page(request, account, session)


async def _incident_page(request: web.Request, account: Account, session: Any, *, form: Any = None,
                         status: int = 200, message: str = "") -> web.Response:
    wf = request.match_info["workflow_id"]
    try:
        inc = await request.app[BOARD].incident(account, wf)
    except NotFound:
        raise web.HTTPNotFound(text="没有这个事件(或不属于本单位)。", content_type="text/plain") from None
    st = inc.status
    waiting = [w for w in (st.waiting_for if st else [])]
    forms: list[ReportForm] = []
    for entry in waiting:
        kind = entry.partition(" (")[0]
        if kind in MODELS and kind not in [f.kind for f in forms]:
            forms.append(form if form is not None and form.kind == kind else blank_form(kind))
    if form is not None and form.kind not in [f.kind for f in forms]:
        forms.insert(0, form)
    extra = [k for k in ("progress", "feedback", "closed") if k not in [f.kind for f in forms]]
    return await page(request, "incident.html", account, session, status=status, inc=inc, st=st, forms=forms,
                      extra=extra, notified=_notified(st) if st else [], waiting=[waiting_zh(w) for w in waiting],
                      decisions=[e for e in (st.timeline if st else []) if e.kind is EntryKind.DECISION][-3:],
                      message=message)


def _notified(st: Any) -> list[dict[str, Any]]:
    """Who was notified (by step and recipient), whether it was delivered and acknowledged."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    acks = {d.id.removeprefix("ack/"): d for d in st.deadlines if d.id.startswith("ack/")}
    for e in st.timeline:
        if e.kind not in (EntryKind.NOTIFICATION_ISSUED, EntryKind.NOTIFICATION, EntryKind.NOTIFICATION_FAILED):
            continue
        if not e.recipient or not e.step:
            continue
        key = (e.step, e.recipient.value)
        row = rows.setdefault(key, {"step": e.step, "recipient": e.recipient.zh,
                                    "clause": e.clause, "state": "已发出,待送达", "at": e.at, "ack": ""})
        if e.kind is EntryKind.NOTIFICATION:
            row["state"], row["at"] = "已送达", e.at
        elif e.kind is EntryKind.NOTIFICATION_FAILED and row["state"] != "已送达":
            row["state"] = "发送失败,须人工通知"
        ack = acks.get(f"{e.step}/{e.recipient.value}")
        if ack is not None:
            row["ack"] = {"met": "已回执", "late": "超时后回执", "missed": "超时未回执",
                          "cancelled": "不需回执"}.get(ack.status.value, "待回执")
    return list(rows.values())


async def report_form(request: web.Request) -> web.Response:
    account, session = await require_account(request)
    kind = request.match_info["kind"]
    if kind not in MODELS:
        raise web.HTTPNotFound(text="没有这种报告。", content_type="text/plain")
    return await _incident_page(request, account, session, form=blank_form(kind))


async def submit_report(request: web.Request) -> web.Response:
    account, session = await require_account(request)
    wf, kind = request.match_info["workflow_id"], request.match_info["kind"]
    if kind not in MODELS:
        raise web.HTTPNotFound(text="没有这种报告。", content_type="text/plain")
    data = await request.post()
    nonce = str(data.get("_nonce", "")) or secrets.token_urlsafe(8)
    report, form = parse_form(kind, data, account.actor, f"web-{nonce[:40]}")
    if report is None:
        return await _incident_page(request, account, session, form=form, status=422)
    try:
        message = await request.app[BOARD].report(account, wf, report)
    except NotFound:
        raise web.HTTPNotFound(text="没有这个事件(或不属于本单位)。", content_type="text/plain") from None
    except (ReportRefused, InvalidInput) as err:
        form.error = reason_zh(str(err))
        log.info("report refused", account=account.id, workflow_id=wf, kind=kind)
        return await _incident_page(request, account, session, form=form, status=422)
    log.info("report sent", account=account.id, workflow_id=wf, kind=kind)
    raise web.HTTPSeeOther(f"/incidents/{wf}?sent={kind}#timeline")


async def report_pdf(request: web.Request) -> web.StreamResponse:
    account, _ = await require_account(request)
    wf = request.match_info["workflow_id"]
    board_ = request.app[BOARD]
    try:
        await board_.incident_exists(account, wf)
    except NotFound:
        raise web.HTTPNotFound(text="没有这个事件(或不属于本单位)。", content_type="text/plain") from None
    import tempfile

    from starter.cli import CliError, report_texts
    from starter.render import to_pdf

    client = await board_.client(account.namespace)
    try:
        texts = await report_texts(client, wf)
    except CliError as err:
        raise web.HTTPConflict(text=str(err), content_type="text/plain") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        to_pdf(texts, path, subject=wf)
        body = path.read_bytes()
    name = f"{wf}-书面报告.pdf"
    from urllib.parse import quote

    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{wf}.pdf\"; filename*=UTF-8''{quote(name)}"})


# ---------------------------------------------------------------------------------- duties


async def my_duties(request: web.Request) -> web.Response:
    account, session = await require_account(request)
    duties = await request.app[BOARD].my_duties(account)
    return await page(request, "duties.html", account, session, duties=duties)


async def open_link(request: web.Request) -> web.Response:
    """A duty message's link: signs the person in for that one duty (unless already signed in)."""
    links = request.app[LINKS]
    try:
        claim = links.open(request.match_info["token"])
    except LinkError as err:
        log.warning("duty link refused", reason="invalid or expired")
        raise web.HTTPForbidden(text=str(err), content_type="text/plain") from None
    account = request.app[ACCOUNTS].get(claim.account_id)
    if account is None or account.namespace != claim.namespace:
        log.warning("duty link refused", reason="account or namespace")
        raise web.HTTPForbidden(text=REFUSED_ZH, content_type="text/plain")
    if links.used(claim):  # single use: its confirmation was taken
        log.warning("duty link refused", reason="already used", account=account.id)
        raise web.HTTPForbidden(text=USED_ZH, content_type="text/plain")
    signed_in, session = await current(request)
    if signed_in is None or signed_in.id != account.id or session.get("scope") != "full":
        session = await new_session(request)
        session.update({"uid": account.id, "ns": account.namespace, "scope": "link",
                        "csrf": secrets.token_urlsafe(32)})
    session["link"] = {"d": claim.duty_id, "j": claim.link_id, "x": claim.expires_at}
    log.info("duty link opened", account=account.id)
    key = base64.urlsafe_b64encode(claim.duty_id.encode()).decode().rstrip("=")
    raise web.HTTPSeeOther(f"/duties/{key}")


async def _duty_for(request: web.Request) -> tuple[Account, Any, Duty | None, str]:
    account, session = await require_account(request, full=False)
    duty_id = duty_id_from_key(request.match_info["key"]) or ""
    link = session.get("link") or {}
    if session.get("scope") != "full" and link.get("d") != duty_id:
        raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path}))
    return account, session, await request.app[BOARD].duty(account, duty_id), duty_id


async def duty_page(request: web.Request) -> web.Response:
    account, session, duty, duty_id = await _duty_for(request)
    done = request.query.get("done") == "1"
    if duty is None and not done:
        raise web.HTTPNotFound(text="这项待办不存在或已办结。", content_type="text/plain")
    return await page(request, "duty.html", account, session, duty=duty, done=done,
                      workflow_id=duty_id.partition("::")[0])


async def confirm_duty(request: web.Request) -> web.Response:
    account, session, duty, duty_id = await _duty_for(request)
    if duty is None:
        raise web.HTTPNotFound(text="这项待办不存在或已办结。", content_type="text/plain")
    data = await request.post()
    how = str(data.get("how", ""))
    counterpart = str(data.get("counterpart", "")).strip()[:100]
    note = str(data.get("note", "")).strip()[:500]
    if how not in duty.confirm_as:
        return await page(request, "duty.html", account, session, status=422, duty=duty, done=False,
                          workflow_id=duty.workflow_id, error="请选择确认方式。")
    links = request.app[LINKS]
    link = session.get("link") or {}
    claim = None
    if session.get("scope") != "full":  # a link session: the link's confirmation is taken once
        claim = LinkClaim(account.id, duty_id, account.namespace, str(link.get("j")), int(link.get("x") or 0))
        if not links.consume(claim):
            return await page(request, "duty.html", account, session, status=409, duty=duty, done=False,
                              workflow_id=duty.workflow_id,
                              error="此链接已用于确认或已过期,不能再次确认;请登录值班看板办理。")
    nonce = str(link.get("j") or data.get("_nonce") or secrets.token_urlsafe(8))
    report = confirmation_report(duty, how, account.actor, counterpart, note, nonce)
    try:
        await request.app[BOARD].report(account, duty.workflow_id, report)
    except (ReportRefused, InvalidInput) as err:
        if claim is not None:
            links.release(claim)
        return await page(request, "duty.html", account, session, status=422, duty=duty, done=False,
                          workflow_id=duty.workflow_id, error=reason_zh(str(err)))
    log.info("duty confirmed", account=account.id, workflow_id=duty.workflow_id, how=how)
    raise web.HTTPSeeOther(f"/duties/{request.match_info['key']}?done=1")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# ---------------------------------------------------------------------------------- app


def build_app(accounts: Accounts, board_: Board, secret: bytes, used_links: Path, *,
              secure_cookie: bool | None = None) -> web.Application:
    from infra.codec_server import quiet_malformed_requests

    quiet_malformed_requests()
    app = web.Application(client_max_size=256 * 1024)
    if secure_cookie is None:
        secure_cookie = os.environ.get("BOARD_COOKIE_SECURE") == "1"
    setup_session(app, EncryptedCookieStorage(derived_key(secret, "cookie"), cookie_name="board_session",
                                              httponly=True, samesite="Lax", secure=secure_cookie,
                                              max_age=SESSION_HOURS * 3600))
    app.middlewares.append(security)
    app[ACCOUNTS] = accounts
    app[BOARD] = board_
    app[LINKS] = DutyLinks(secret, used_links)
    app[FAILURES] = {}
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                               autoescape=jinja2.select_autoescape(["html"]),
                               context_processors=[aiohttp_jinja2.request_processor])
    env.filters.update(time_zh=lambda at: fmt_time(at) if at else "", iso=iso, countdown=countdown_zh,
                       clause_zh=clause_zh, codes_zh=codes_in_text_zh)
    env.globals.update(FLOW_ZH=_labels(Flow), PHASE_ZH=_labels(IncidentPhase),
                       ENTRY_KIND_ZH=_labels(EntryKind), DEADLINE_STATUS_ZH=_labels(DeadlineStatus),
                       OBLIGATION_STATUS_ZH=_labels(ObligationStatus), SOURCE_ZH=_labels(Source), FORM_ZH=FORM_ZH,
                       CONFIRM_ZH=CONFIRM_ZH, AGENCY_NAME_ZH=_labels(Agency), Flow=Flow, IncidentPhase=IncidentPhase,
                       now=lambda: datetime.now(UTC), timedelta=timedelta, blank=blank_form)
    r = app.router
    r.add_get("/", index)
    r.add_get("/health", health)
    r.add_get("/login", login_page)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/board", board)
    r.add_get("/incidents/{workflow_id}", incident)
    r.add_get("/incidents/{workflow_id}/report.pdf", report_pdf)
    r.add_get("/incidents/{workflow_id}/reports/{kind}", report_form)
    r.add_post("/incidents/{workflow_id}/reports/{kind}", submit_report)
    r.add_get("/duties", my_duties)
    r.add_get("/duties/{key}", duty_page)
    r.add_post("/duties/{key}/confirm", confirm_duty)
    r.add_get("/d/{token}", open_link)
    r.add_static("/static", HERE / "static")
    return app


def app_from_env(var: Path, *, address: str | None = None) -> web.Application:
    """The board as deployed: accounts from ``BOARD_ACCOUNTS_FILE`` (default config/board-accounts.json),
    the directory for counterparts' numbers (``EMERGENCY_DIRECTORY``), the secret in ``var/``."""
    from plan.agencies import load_directory
    from web.config import load_accounts, secret_key

    directory_path = os.environ.get("EMERGENCY_DIRECTORY")
    directory = load_directory(directory_path) if directory_path else load_directory()
    return build_app(load_accounts(), Board(directory, address=address), secret_key(var), var / "board-used-links.json")
