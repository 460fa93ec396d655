"""The class report and the progress page, rendered in Chromium: the summary is above the fold.

Both pages are built from a made-up class (no kernel runs here): a student with 3 wrong answers
and 58 exercises not done, and a class of 40 students. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import pytest

from dlcore.tools import class_report, progress
from dlcore.tools.grade import ExerciseGrade, NotebookGrade
from tests.browser.conftest import ARTIFACTS

VIEWPORT = {"width": 1280, "height": 800}
CHAPTERS = [f"{n:02d}_chapter.ipynb" for n in range(1, 17)]


def _student_with_three_wrong(name: str = "you") -> list[NotebookGrade]:
    grades, wrong_left = [], 3
    for number, notebook in enumerate(CHAPTERS, start=1):
        exercises = []
        for k in range(1, 5):
            label = f"{number}.{k}"
            if number == 1 and k <= 3:
                status = "passed"
            elif wrong_left and k == 1 and number in (3, 7, 12):
                status, wrong_left = "wrong", wrong_left - 1
            else:
                status = "not done"
            exercises.append(ExerciseGrade(label, status, message=f"Exercise {label}: "
                                           + ("your softmax overflows: subtract the row maximum before exp"
                                              if status == "wrong" else "not done yet"), mistake="softmax-overflow"
                                           if status == "wrong" else ""))
        grades.append(NotebookGrade(f"{name}/{notebook}", name, notebook, exercises=exercises))
    return grades


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


def _show(page, html_text: str, tmp_path, name: str):
    path = tmp_path / f"{name}.html"
    path.write_text(html_text, encoding="utf-8")
    page.goto(path.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _above_the_fold(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] + box["height"] <= VIEWPORT["height"]


def test_progress_page_shows_the_score_and_the_three_wrong_answers_first(page, tmp_path):
    grades = _student_with_three_wrong()
    assert sum(x.status == "not done" for g in grades for x in g.exercises) == 58
    _show(page, progress.render_html(grades), tmp_path, "progress-page")
    assert "Your progress: 3 of 64 exercises pass" in page.locator("h1").inner_text()
    fixes = page.locator(".fix")
    assert fixes.count() == 3
    for index in range(3):
        assert _above_the_fold(page, f".fix >> nth={index}"), "a wrong answer is below the fold"
    assert not page.locator("details").first.evaluate("d => d.open")  # not done: collapsed
    assert page.locator("details summary").inner_text().startswith("Not done yet: 58 exercises in 16 chapters")


def test_class_report_shows_the_counts_and_the_most_common_mistake(page, tmp_path):
    grades = [grade for n in range(40) for grade in _student_with_three_wrong(f"student{n:02d}")][:16 * 40]
    _show(page, class_report.render_html(grades), tmp_path, "class-report")
    assert "40 students, 640 notebooks" in page.locator("h1").inner_text()
    assert _above_the_fold(page, "h1") and _above_the_fold(page, "h1 + p")
    assert _above_the_fold(page, "table tr >> nth=1")  # the most common mistake
    assert "softmax-overflow" in page.content()
