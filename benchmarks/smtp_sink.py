"""A local SMTP sink (aiosmtpd) that counts the messages it accepts: ``flask notify send``'s
mail goes to a real SMTP server. Usage: ``python smtp_sink.py PORT``; on SIGTERM it prints
how many messages it received and exits."""

import asyncio
import signal
import sys

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages += 1
        return "250 OK"


def main() -> None:
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    controller.stop()
    print(handler.messages, flush=True)


if __name__ == "__main__":
    main()
