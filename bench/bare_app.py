"""The baseline: a bare Bolt app that only acks "ok", on the same server as ours."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bot.web import make_server  # noqa: E402


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)

    @app.command("/partner")
    def partner(ack):
        ack("ok")

    make_server(app, host="127.0.0.1", port=int(sys.argv[1])).run()


if __name__ == "__main__":
    main()
