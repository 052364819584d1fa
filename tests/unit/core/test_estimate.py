from scenario_texture_upscale.core.estimate import describe_output, megabytes


def test_output_description_names_the_file_and_the_memory_in_two_short_lines():
    assert describe_output(4096, 4096) == ("File: about 25 MB as PNG", "Memory: 67 MB, GPU: 67 MB")
    assert all(len(line) <= 30 for line in describe_output(16384, 16384))


def test_small_sizes_keep_a_decimal():
    assert megabytes(1_234_567) == "1.2 MB"
    assert megabytes(12_345_678) == "12 MB"


def test_tiny_sizes_are_in_kilobytes():
    assert megabytes(24_576) == "25 KB"
    assert megabytes(12) == "1 KB"
