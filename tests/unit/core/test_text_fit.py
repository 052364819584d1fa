from scenario_texture_upscale.core.text_fit import fit_lines


def width_in_chars(text: str) -> float:
    return float(len(text))


def test_a_short_text_stays_one_line():
    assert fit_lines("Keys from the preferences", 40, width_in_chars) == [
        "Keys from the preferences"]


def test_words_wrap_whole_and_every_line_fits():
    text = "Stopped waiting for Scenario job job_123. It may still finish and be charged."
    lines = fit_lines(text, 24, width_in_chars)
    assert " ".join(lines) == text
    assert all(len(line) <= 24 for line in lines) and len(lines) == 4


def test_paths_break_after_a_separator():
    lines = fit_lines("kept in /home/artist/.config/blender/journal", 20, width_in_chars)
    assert "".join(lines).replace(" ", "") == "keptin/home/artist/.config/blender/journal"
    assert all(len(line) <= 20 for line in lines)
    assert lines[1].endswith("/")


def test_a_piece_wider_than_the_line_gets_its_own_line():
    assert fit_lines("a 0123456789abcdef b", 8, width_in_chars) == ["a", "0123456789abcdef", "b"]


def test_empty_text_is_one_empty_line():
    assert fit_lines("", 10, width_in_chars) == [""]


def test_a_name_that_fits_a_line_is_never_broken():
    text = "or set SCENARIO_SDK_API_KEY and SCENARIO_SDK_API_SECRET."
    lines = fit_lines(text, 28, width_in_chars)
    assert lines == ["or set SCENARIO_SDK_API_KEY", "and SCENARIO_SDK_API_SECRET."]
    assert fit_lines("see SCENARIO_SDK_API_KEY", 22, width_in_chars) == [
        "see", "SCENARIO_SDK_API_KEY"]
