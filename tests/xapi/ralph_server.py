"""Start ralph's LRS API (run by .venv-ralph's Python): ``ralph_server.py HOST PORT``.

As ``ralph runserver -b fs`` does (environment: RALPH_RUNSERVER_BACKEND=fs,
RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH, RALPH_AUTH_FILE), with one change: the file
backend, meant for development, writes each POST with ``create`` and so refuses every POST
after the first ("Statements bulk indexation failed", the file exists). Here it appends, as a
production backend (Elasticsearch, MongoDB, ClickHouse: none can run on this machine) stores
each new batch. Everything else — the API, basic auth, statement validation, duplicate ids,
queries — is ralph's own code.
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

host, port = sys.argv[1], int(sys.argv[2])
uvicorn.run("ralph.api:app", host=host, port=port, log_level="warning")
