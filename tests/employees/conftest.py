"""Helpers for the employee tests: build CSV and XLSX files, log in as HR."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from training.auth.models import Role, User
from training.extensions import db

HEADER = ["工号", "姓名", "部门", "入职日期", "邮箱", "岗位", "角色"]


def make_csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    """Return a comma-separated file as Excel would save it."""
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def make_xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    """Return an XLSX workbook with the header in row 1."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def hr(login_as) -> User:
    """Log the test client in as an HR user and return them."""
    return login_as(Role.HR, name="人事甲")


@pytest.fixture
def imports_dir(app, tmp_path, monkeypatch):
    """Keep uploads of this test in a temporary instance folder; return its imports/ folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


@pytest.fixture
def upload(client, imports_dir) -> Callable[..., object]:
    """Return a function that posts a file to the import form."""

    def post(data: bytes, filename: str = "staff.csv"):
        # Encoded here, in memory: the test client would spool a body past 500 kB to a
        # temporary file it never closes (a ResourceWarning, an error in this suite).
        boundary, body = encode_multipart(
            {"file": FileStorage(io.BytesIO(data), filename, content_type="text/csv")}
        )
        return client.post(
            "/hr/employees/import",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    return post


@pytest.fixture
def csv_file() -> Callable[..., bytes]:
    """Return the CSV builder."""
    return make_csv


@pytest.fixture
def xlsx_file() -> Callable[..., bytes]:
    """Return the XLSX builder."""
    return make_xlsx


def count_rows(model, *where) -> int:
    """Return how many rows of ``model`` match ``where``."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def confirm_data(html: str) -> dict[str, str]:
    """Return the confirm form's fields from an import preview page."""
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', html)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html)
    assert upload_id, "no confirm form in page"
    assert fingerprint, "no confirm form in page"
    return {"upload_id": upload_id.group(1), "fingerprint": fingerprint.group(1)}
