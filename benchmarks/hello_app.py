"""A bare one-route Flask app: the baseline the real pages are compared with."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    """Say hello."""
    return "hello"
