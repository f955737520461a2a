"""The dashboard served by uvicorn in a thread, as `netstats dashboard` serves it."""

import threading
import time

import uvicorn

from netstats.dashboard import DashboardSettings, create_app


class Server:
    def __init__(self, settings: DashboardSettings) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host=settings.bind,
                port=settings.port,
                log_level="warning",
                timeout_graceful_shutdown=1,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{settings.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
