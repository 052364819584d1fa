from scenario_texture_upscale.core.estimate import describe_output, megabytes


def test_output_description_names_size_file_and_memory():
    text = describe_output(4096, 4096)
    assert text.startswith("4096×4096 px")
    assert "about 25 MB as PNG" in text
    assert "67 MB in memory" in text


def test_small_sizes_keep_a_decimal():
    assert megabytes(1_234_567) == "1.2 MB"
    assert megabytes(12_345_678) == "12 MB"


def test_tiny_sizes_are_in_kilobytes():
    assert megabytes(24_576) == "25 KB"
    assert megabytes(12) == "1 KB"
