"""The outbox's reliability run at size: N messages, D dispatcher processes on one database, one killed with
SIGKILL (and replaced) each time another 1/(K+1) of the messages is delivered, against a loopback receiver
that refuses connections at first, then fails every message's first delivery in one of four ways (500,
slower than the timeout, answer lost after applying, an answer that is not HTTP) or accepts it. Prints the
counts at the receiver; exits 1 if a message was lost, applied twice, resent with other bytes, or badly
signed.

    python benchmarks/outbox_reliability.py --database postgresql://postgres@127.0.0.1:5432/bench \\
        --messages 1000 --dispatchers 2 --kills 30
    python benchmarks/outbox_reliability.py --quick          # SQLite, 1 dispatcher, 60 messages, 4 kills

The test suite runs the quick sizes (tests/test_outbox_reliability.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from tests.outbox_support import reliability_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="PostgreSQL server URL (a throw-away database is created on it)")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="SQLite, 1 dispatcher, 60 messages, 4 kills")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.quick or not args.database:
            url, dispatchers = f"sqlite:///{folder / 'outbox.db'}", 1
            messages, kills = (60, 4) if args.quick else (args.messages, args.kills)
        else:
            name = f"ow_outbox_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.database.replace("postgresql://", "postgresql+psycopg://"))
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            dispatchers, messages, kills = args.dispatchers, args.messages, args.kills
        report, _ = reliability_run(url, folder, messages=messages, dispatchers=dispatchers, kills=kills)
        print(report.line())
        r = report.receiver
        ok = (
            report.states.get("delivered") == messages
            and r["applied"] == messages
            and r["applied_twice"] == 0
            and r["keys_with_two_bodies"] == 0
            and r["bad_signatures"] == 0
        )
        if args.database and not args.quick:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
