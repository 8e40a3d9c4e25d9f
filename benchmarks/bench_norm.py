"""Time norm parsing of the company norm and of a norm 100 times its size.

Run with `.venv/bin/python benchmarks/bench_norm.py` (also part of `make bench`). The large
norm is content/source/service-norm.txt repeated with its chapters renumbered (copy j's
chapter k becomes k + j × chapters, and every number under it follows), parsed the way HR's
upload is: inline numbering, no line layout. The budget is a ratio measured in the same run,
not a time: parsing N copies may take at most BUDGET_PER_COPY × N times one copy (linear,
with room for noise). Times are the process's CPU time, the two sizes parsed in alternation
so both see the same load. Exits 1 when the budget is missed or the large parse is wrong.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

from training.norm.model import NormDocument
from training.norm.numbering import Sequencer, search
from training.norm.parse import parse_text

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "content" / "source" / "service-norm.txt"
COPIES = 100
BUDGET_PER_COPY = 1.5  # parse of N copies ≤ 1.5 × N × parse of one copy
_LEADING_NUMBER = re.compile(r"\d+")


def headings(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of every heading label, found as the inline parser finds them."""
    seq = Sequencer(lock_separators=True)
    out = []
    pos = 0
    while found := search(text, pos, seq.candidates()):
        marker, start, end = found
        seq.push(marker)
        out.append((start, end))
        pos = end
    return out


def repeated_norm(text: str, copies: int) -> tuple[str, int]:
    """Return the norm repeated ``copies`` times with renumbered chapters, and its chapter count.

    Only the first copy keeps the document title (the text before the first heading).
    """
    spans = headings(text)
    if not spans:
        raise ValueError("the norm has no headings")
    leading: list[tuple[int, int]] = []  # (number, where its digits end)
    for start, end in spans:
        m = _LEADING_NUMBER.match(text, start, end)
        if m is None:
            raise ValueError(f"heading {text[start:end]!r} does not start with an arabic number")
        leading.append((int(m.group()), m.end()))
    chapters = max(number for number, _ in leading)
    parts = [text[: spans[0][0]]]
    for j in range(copies):
        for i, ((_start, end), (number, digits_end)) in enumerate(zip(spans, leading, strict=True)):
            stop = spans[i + 1][0] if i + 1 < len(spans) else len(text)
            parts.append(str(number + j * chapters) + text[digits_end:end])
            parts.append(text[end:stop])
    return "".join(parts), chapters


def timed_parses(
    one: str, many: str, runs: int
) -> tuple[list[float], list[float], NormDocument, NormDocument]:
    """Parse ``one`` ten times, then ``many`` once, ``runs`` times over (interleaved, so both
    see the same load on a shared machine); return the CPU seconds of each parse of one and
    of many, and the documents of the last two parses."""
    ones: list[float] = []
    manys: list[float] = []
    doc = big = None
    for _ in range(runs):
        for _ in range(10):
            started = time.process_time()
            doc = parse_text(one)
            ones.append(time.process_time() - started)
        started = time.process_time()
        big = parse_text(many)
        manys.append(time.process_time() - started)
    if doc is None or big is None:
        raise ValueError("runs must be at least 1")
    return ones, manys, doc, big


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=COPIES)
    parser.add_argument("--runs", type=int, default=5, help="parses of the large norm")
    args = parser.parse_args(argv)

    text = SOURCE.read_text(encoding="utf-8")
    big, chapters = repeated_norm(text, args.copies)
    started = time.perf_counter()
    ones, manys, one_doc, many_doc = timed_parses(text, big, args.runs)
    wall = time.perf_counter() - started
    one, many = statistics.median(ones), statistics.median(manys)

    one_numbers = [s.number for s in one_doc.walk()]
    many_numbers = [s.number for s in many_doc.walk()]
    expected = []
    for j in range(args.copies):
        for number in one_numbers:
            head, _, rest = number.partition(".")
            expected.append(".".join(filter(None, (str(int(head) + j * chapters), rest))))
    correct = many_numbers == expected

    ratio = many / one
    budget = BUDGET_PER_COPY * args.copies
    print(
        f"norm parse (CPU time, median): 1× ({len(text):,} characters, {len(one_numbers)} "
        f"sections) {one * 1000:.1f} ms of {len(ones)}; {args.copies}× ({len(big):,} characters, "
        f"{len(many_numbers):,} sections) {many * 1000:.0f} ms of {len(manys)}; "
        f"ratio {ratio:.1f}, budget {budget:.0f} ({'within' if ratio <= budget else 'OVER'}); "
        f"sections {'as expected' if correct else 'WRONG'}; {wall:.1f} s in all"
    )
    return 0 if correct and ratio <= budget else 1


if __name__ == "__main__":
    sys.exit(main())
