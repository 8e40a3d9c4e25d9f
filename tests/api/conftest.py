from tests.quizzes.conftest import form_for_fixture, start_quiz  # noqa: F401 - fixtures
