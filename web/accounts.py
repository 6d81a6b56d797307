"""``python -m web.accounts``: the duty board's account list (``config/board-accounts.json``).

    python -m web.accounts add hy-beicheng-duty --name 吴晓峰 --unit 北城司法所 --office 北城司法所 \\
        --county 黄岩区 [--namespace default] [--phone 13900000012]      # asks for the password twice
    echo "$PASSWORD" | python -m web.accounts add ... --password-stdin   # for scripts
    python -m web.accounts passwd hy-beicheng-duty                       # a new password
    python -m web.accounts list
    python -m web.accounts link hy-dongcheng-duty 'incident-C1-...::duty/alarm-110' --base http://127.0.0.1:8235
                                                                         # a signed duty link by hand (BOARD_LINK_TTL_MINUTES);
                                                                         # duty task messages carry theirs (BOARD_URL)

Passwords are stored only as Argon2id hashes (argon2-cffi). ``BOARD_ACCOUNTS_FILE`` selects the file.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from argon2 import PasswordHasher
from pydantic import ValidationError

from web.config import Account, BoardConfigError, accounts_file, load_accounts, save_accounts

MIN_PASSWORD = 10


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        pw = sys.stdin.readline().rstrip("\n")
    else:
        pw = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != pw:
            raise BoardConfigError("the two passwords differ")
    if len(pw) < MIN_PASSWORD:
        raise BoardConfigError(f"password: at least {MIN_PASSWORD} characters")
    return pw


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m web.accounts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="add an account (password hashed with Argon2id)")
    add.add_argument("id")
    add.add_argument("--name", required=True)
    add.add_argument("--unit", required=True)
    add.add_argument("--county", required=True)
    add.add_argument("--office", default="")
    add.add_argument("--namespace", default="default")
    add.add_argument("--phone", default="")
    add.add_argument("--no-password", action="store_true", help="signs in only through duty links")
    add.add_argument("--password-stdin", action="store_true")
    pw = sub.add_parser("passwd", help="set an account's password")
    pw.add_argument("id")
    pw.add_argument("--password-stdin", action="store_true")
    sub.add_parser("list", help="the accounts (no hashes)")
    link = sub.add_parser("link", help="a signed link to one duty of one account")
    link.add_argument("id")
    link.add_argument("duty")
    link.add_argument("--base", default="http://127.0.0.1:8235")
    args = p.parse_args(argv)
    path = accounts_file()
    try:
        accounts = load_accounts(path) if path.exists() or args.cmd != "add" else None
        if args.cmd == "add":
            from web.config import Accounts

            accounts = accounts or Accounts()
            if accounts.get(args.id):
                raise BoardConfigError(f"{args.id}: already in {path} (use passwd to change its password)")
            hashed = "" if args.no_password else PasswordHasher().hash(_password(args))
            try:
                account = Account(id=args.id, name=args.name, unit=args.unit, county=args.county, office=args.office,
                                  namespace=args.namespace, phone=args.phone, password_hash=hashed)
            except ValidationError as err:
                first = err.errors()[0]
                raise BoardConfigError(f"{first['loc'][0]}: {first['msg']}") from None
            accounts.accounts.append(account)
            save_accounts(accounts, path)
            print(f"added {args.id} to {path}")
        elif args.cmd == "passwd":
            assert accounts is not None
            old = accounts.get(args.id)
            if old is None:
                raise BoardConfigError(f"{args.id}: no such account in {path}")
            new = old.model_copy(update={"password_hash": PasswordHasher().hash(_password(args))})
            accounts.accounts[accounts.accounts.index(old)] = new
            save_accounts(accounts, path)
            print(f"password of {args.id} changed")
        elif args.cmd == "list":
            assert accounts is not None
            for a in accounts.accounts:
                print(f"{a.id}\t{a.actor}\t{a.county}\t{a.office or '-'}\tnamespace={a.namespace}"
                      f"\t{'password' if a.password_hash else 'links only'}")
        else:
            assert accounts is not None
            found = accounts.get(args.id)
            if found is None:
                raise BoardConfigError(f"{args.id}: no such account in {path}")
            from infra.codec import var_dir
            from web.config import secret_key
            from web.links import DutyLinks

            import time

            from infra.duty_links import link_ttl

            links = DutyLinks(secret_key(var_dir()), var_dir() / "board-used-links.json")
            until = int(time.time() + link_ttl().total_seconds())
            print(f"{args.base.rstrip('/')}/d/{links.mint(found.id, args.duty, found.namespace, expires_at=until)}")
    except BoardConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
