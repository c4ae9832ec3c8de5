"""``htx-cancel``: the command line (needs the ``cli`` extra, which brings rich).

Commands: ``demo`` (the fake exchange, cancelled at full speed), ``cancel`` (by ids,
optionally verified), ``cancel-all``, ``cancel-after`` (the dead man's switch, armed once) and
``time``. See docs/cli.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``htx-cancel`` with ``argv`` (default: the process arguments); the exit status."""
    try:
        from ._main import run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "rich":
            raise
        print("htx-cancel: the command line needs rich: pip install 'htx_cancel[cli]'",
              file=sys.stderr)
        return 2
    return run(argv)
