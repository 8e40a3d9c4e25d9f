import pytest

from training.content.build import build, expected_lessons
from training.content.outline import OutlineError
from training.norm.model import NormParseError

from .conftest import CONTENT


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.md"))}


def test_build_writes_fourteen_lessons(content_dir):
    report = build(content_dir)
    assert len(report.written) == 14
    assert report.unchanged == report.removed == []
    assert "4.2-外部服务的方式.md" in snapshot(content_dir / "lessons")


def test_building_twice_writes_nothing_and_changes_no_byte(content_dir):
    build(content_dir)
    first = snapshot(content_dir / "lessons")
    report = build(content_dir)
    assert report.written == []
    assert len(report.unchanged) == 14
    assert snapshot(content_dir / "lessons") == first


def test_build_rewrites_only_the_changed_lesson(content_dir):
    build(content_dir)
    edited = content_dir / "lessons" / "5-其它.md"
    edited.write_text("hand edit", encoding="utf-8")
    report = build(content_dir)
    assert report.written == ["5-其它.md"]
    assert len(report.unchanged) == 13


def test_build_removes_stale_lessons_but_keeps_other_files(content_dir):
    lessons = content_dir / "lessons"
    lessons.mkdir()
    (lessons / "6-旧课.md").write_text("---\nid: lesson-6\n---\n\n# 6\n", encoding="utf-8")
    (lessons / "notes.md").write_text("# 编辑笔记\n", encoding="utf-8")
    report = build(content_dir)
    assert report.removed == ["6-旧课.md"]
    assert (lessons / "notes.md").exists()


def test_build_from_an_empty_source_fails_and_writes_nothing(content_dir):
    build(content_dir)
    before = snapshot(content_dir / "lessons")
    empty = content_dir / "source" / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(NormParseError):
        build(content_dir, empty)
    assert snapshot(content_dir / "lessons") == before


def test_build_with_an_override_for_a_missing_section_writes_nothing(content_dir):
    outline = content_dir / "outline.yaml"
    outline.write_text(outline.read_text(encoding="utf-8") + '  "9.9": 不存在\n', encoding="utf-8")
    with pytest.raises(OutlineError, match=r"9\.9"):
        build(content_dir)
    assert not (content_dir / "lessons").exists()


def test_committed_lessons_equal_a_fresh_build(content_dir):
    build(content_dir)
    assert snapshot(content_dir / "lessons") == snapshot(CONTENT / "lessons")


def test_expected_lessons_record_the_source_relative_to_content(content_dir):
    text = next(iter(expected_lessons(content_dir).values()))
    assert "\nsource: source/service-norm.txt\n" in text
