"""A bot that arms the dead man's switch and then waits to be killed (run as a script)."""

from __future__ import annotations

import asyncio
import sys

from htx_cancel import CancelClient, Credentials


async def main(base_url: str, seconds: float) -> None:
    async with (CancelClient(Credentials("test-access", "test-secret"), api="v1",
                             base_url=base_url) as c,
                c.cancel_after(seconds, interval=0.5) as switch):
        print(f"armed {switch.trigger_time}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
