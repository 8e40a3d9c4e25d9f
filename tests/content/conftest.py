"""Hand-built norm trees for content tests that must not depend on the parser."""

import html
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from training.content.outline import load_outline
from training.norm.model import NormDocument, Section, text_hash


def section(number, title="", body="", children=()):
    """Build a Section whose level is its depth and whose hash covers title and body."""
    return Section(
        number=number,
        label=number,
        title=title,
        body=body,
        level=number.count(".") + 1,
        children=tuple(children),
        hash=text_hash(title + body),
    )


@pytest.fixture
def small_doc():
    """Return a two-chapter norm shaped like chapters 4 and 5 of the seed."""
    phone = section(
        "4.2.1",
        "电话联系",
        children=[
            section(
                "4.2.1.1", body="电话联系是公司最常用的方式。电话联系过程中,应特别注重礼貌用语。"
            ),
            section(
                "4.2.1.2",
                body="公事电话响后应及时接听,拿起电话筒应先道“您好,这里是深圳市正运动技术有限公司”,必要时应报姓名。",
            ),
            section("4.2.1.7", body="挂断电话时应说“再见”。"),
        ],
    )
    visit = section(
        "4.2.2",
        "上门服务",
        "公司销售业务、技术支持服务中会常需要为客户上门服务。"
        "销售工程师联系新老客户时,为了关注客户、加深客户印象、加强与客户的关系,会经常去上门拜访新老客户。"
        "去客户前要先和客户沟通联系好,做好相应的准备,并注重礼仪。如果做技术培训要提前准备好演示PPT。",
    )
    inner = section(
        "4.1",
        "内部服务的方式",
        children=[
            section(
                "4.1.3",
                body="真诚沟通。良好的沟通从心开始。沟通的方式包括但不限于面谈、会议(早会、问题讨论会)、书面沟通(工作报告、文件)、网络沟通(电话、QQ、微信等)。",
            )
        ],
    )
    chapter4 = section(
        "4", "服务方式", children=[inner, section("4.2", "外部服务的方式", children=[phone, visit])]
    )
    chapter5 = section(
        "5", "其它", "本规范由人事行政部负责解释、并适时修订。本规范自****年**月**日起实施。"
    )
    return NormDocument(title="公司服务规范", sections=(chapter4, chapter5), source_sha256="0" * 64)


REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"


@pytest.fixture(scope="session")
def seed_doc():
    """Return the seed norm parsed with the title overrides of content/outline.yaml."""
    from training.content.build import parse_norm

    outline = load_outline(CONTENT / "outline.yaml")
    return parse_norm(outline.source_path(), outline)


@pytest.fixture
def content_dir(tmp_path):
    """Return a scratch content/ with the real outline.yaml, 要点 and norm source, no lessons.

    A sibling quizzes/ holds the authored distractors, so a build can generate items.
    """
    target = tmp_path / "content"
    (target / "source").mkdir(parents=True)
    shutil.copy(CONTENT / "outline.yaml", target / "outline.yaml")
    shutil.copy(CONTENT / "summaries.yaml", target / "summaries.yaml")
    shutil.copy(CONTENT / "source" / "service-norm.txt", target / "source" / "service-norm.txt")
    (tmp_path / "quizzes").mkdir()
    shutil.copy(REPO / "quizzes" / "distractors.yaml", tmp_path / "quizzes" / "distractors.yaml")
    return target


@pytest.fixture(name="section")
def section_fixture():
    """Return the Section builder."""
    return section


@pytest.fixture(name="plain_text")
def plain_text_fixture():
    """Return the letters-and-digits view used to compare norm text with lessons."""
    return plain_text


def plain_text(html_or_text):
    """Return only letters and digits: tags, markup, punctuation and spaces removed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", html_or_text))
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
