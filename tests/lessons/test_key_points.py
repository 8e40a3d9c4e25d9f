"""The lesson page opens with its 本课要点 box; the clause text follows."""

from __future__ import annotations

import re


def test_the_key_points_box_comes_before_the_clause_text(client, login_as, lessons):
    login_as()
    page = client.get("/lessons/1.1").get_data(as_text=True)
    article = re.search(r'<article class="lesson card"[^>]*>(.*?)</article>', page, re.S).group(1)
    box = re.search(
        r'<section aria-labelledby="key-points" class="key-points">.*?</section>', article, re.S
    )
    assert box, article[:500]
    assert '<h2 id="key-points">本课要点</h2>' in box.group()
    assert "对内部员工、公司的服务" in box.group()
    # The clause's own text comes after the box.
    assert article.index("通俗解释") > box.end()
    assert box.start() > article.index('<h1 id="s-1.1">')


def test_key_points_link_to_the_clauses_they_summarise(client, login_as, lessons):
    login_as()
    page = client.get("/lessons/4.2").get_data(as_text=True)
    box = re.search(r'class="key-points">.*?</section>', page, re.S).group()
    for number in ("4.2.1.2", "4.2.2", "4.2.4"):
        assert f'<a href="#s-{number}">{number}</a>' in box
        assert f'id="s-{number}"' in page.split(box, 1)[1]  # the anchor it links to is below
    # Lesson 5's point on the start date gets the version's effective date, like the clause.
    page = client.get("/lessons/5").get_data(as_text=True)
    box = re.search(r'class="key-points">.*?</section>', page, re.S).group()
    assert '<time class="filled-date"' in box
