from training.lessons.markdown import load_lesson_file, render_lesson_html


def test_line_break_between_cjk_characters_is_removed():
    assert "<p>服务规范</p>" in render_lesson_html("服务\n规范")


def test_line_break_between_cjk_punctuation_and_text_is_removed():
    assert "<p>服务\uff0c规范。</p>" in render_lesson_html("服务\uff0c\n规范。")


def test_line_break_after_ascii_comma_in_chinese_text_is_removed():
    assert "<p>服务,规范。</p>" in render_lesson_html("服务,\n规范。")


def test_line_break_after_ascii_comma_in_latin_text_stays():
    assert "word,\nword" in render_lesson_html("word,\nword")


def test_line_break_between_latin_words_stays_whitespace():
    html = render_lesson_html("word\nword")
    assert "wordword" not in html
    assert "word\nword" in html


def test_heading_is_not_joined_with_the_next_line():
    html = render_lesson_html("# 标题\n正文")
    assert '<h1 id="标题">标题</h1>' in html
    assert "<p>正文</p>" in html


def test_list_item_continuation_is_joined():
    assert "<li>甲乙</li>" in render_lesson_html("- 甲\n  乙\n- 丙")


def test_code_fence_lines_are_not_joined():
    assert "服务\n规范" in render_lesson_html("```\n服务\n规范\n```")


def test_headings_get_unicode_ids():
    assert '<h2 id="外部服务的方式">外部服务的方式</h2>' in render_lesson_html("## 外部服务的方式")


def test_clause_anchors_survive():
    html = render_lesson_html(
        '## 4.2.1 电话联系 {#s-4.2.1}\n\n- <a id="s-4.2.1.2"></a>**4.2.1.2** 公事电话'
    )
    assert 'id="s-4.2.1"' in html
    assert '<a id="s-4.2.1.2"></a>' in html


def test_load_lesson_file_splits_front_matter(tmp_path):
    path = tmp_path / "1.1-服务的概念.md"
    path.write_text(
        "---\nid: lesson-1.1\nnumber: '1.1'\n---\n\n# 1.1 服务的概念\n", encoding="utf-8"
    )
    meta, body = load_lesson_file(path)
    assert meta == {"id": "lesson-1.1", "number": "1.1"}
    assert body.strip() == "# 1.1 服务的概念"
