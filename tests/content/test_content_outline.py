import pytest

from training.content.outline import OutlineError, load_outline


def write(tmp_path, text):
    path = tmp_path / "outline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_outline_keeps_section_numbers_as_written(tmp_path):
    outline = load_outline(
        write(tmp_path, 'source: source/n.txt\nlesson_level: 3\ntitles:\n  1.10: 甲\n  "5": 乙\n')
    )
    assert outline.titles == {"1.10": "甲", "5": "乙"}
    assert outline.lesson_level == 3
    assert outline.source_path() == tmp_path / "source" / "n.txt"


def test_outline_lesson_level_defaults_to_two(tmp_path):
    assert load_outline(write(tmp_path, "source: n.txt\n")).lesson_level == 2


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("source: n.txt\nlessons: 2\n", "lessons"),
        ("lesson_level: 2\n", "source"),
        ("source: n.txt\nlesson_level: two\n", "lesson_level"),
        ("source: n.txt\nlesson_level: 0\n", "lesson_level"),
        ("source: n.txt\ntitles: [a, b]\n", "titles"),
        ("source: n.txt\ntitles:\n  一: 甲\n", "titles.一"),
        ("source: n.txt\ntitles:\n  '1.1': ''\n", "titles.1.1"),
        ("source: n.txt\n  bad: [\n", "line 2"),
        ("- just a list\n", "file"),
    ],
)
def test_bad_outline_names_the_place(tmp_path, text, place):
    with pytest.raises(OutlineError) as info:
        load_outline(write(tmp_path, text))
    assert info.value.place == place


def test_missing_outline_is_an_outline_error(tmp_path):
    with pytest.raises(OutlineError, match="not found"):
        load_outline(tmp_path / "outline.yaml")


def test_override_for_a_number_not_in_the_norm_is_rejected(tmp_path, small_doc):
    outline = load_outline(write(tmp_path, "source: n.txt\ntitles:\n  '9.9': 甲\n"))
    with pytest.raises(OutlineError, match=r"9\.9 is not in the norm") as info:
        outline.check_numbers(small_doc)
    assert info.value.place == "titles.9.9"
