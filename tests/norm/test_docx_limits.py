"""A .docx that inflates far beyond any norm is refused before python-docx reads it."""

from __future__ import annotations

import io
import zipfile

import pytest

from training.norm.model import NormParseError
from training.norm.parse import parse_bytes


def test_docx_zip_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/padding.bin", b"\0" * (60 * 1024 * 1024))
    with pytest.raises(NormParseError, match="50 MB"):
        parse_bytes(buffer.getvalue(), filename="bomb.docx")
