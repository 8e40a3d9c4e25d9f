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


def _docx(document_xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", document_xml)
    return buffer.getvalue()


def test_a_docx_of_a_million_empty_paragraphs_is_refused_before_it_is_parsed():
    body = b"<w:p/>" * 1_300_000  # 7.8 MB inflated, a few KB on disk
    data = _docx(b'<w:document xmlns:w="x"><w:body>' + body + b"</w:body></w:document>")
    assert len(data) < 200_000
    with pytest.raises(NormParseError, match="超过 20000 段"):
        parse_bytes(data, filename="paragraphs.docx")


@pytest.mark.parametrize("shift", range(8))
def test_paragraphs_are_counted_once_across_read_boundaries(shift):
    from training.norm.readers import _paragraph_count

    # Tags of every form placed so that some straddle the 1 MB read boundary.
    filler = b"x" * ((1 << 20) - 3 - shift)
    xml = filler + b"<w:p>a</w:p><w:p/>" + b"<w:p w:x='1'>" + filler + b"<w:p/>"
    archive = zipfile.ZipFile(io.BytesIO(_docx(xml)))
    assert _paragraph_count(archive, 10) == 4
