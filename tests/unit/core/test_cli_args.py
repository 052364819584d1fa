"""Arguments of the scenario_upscale command-line command."""

import pytest
from scenario_texture_upscale.core import cli_args


def test_defaults():
    assert cli_args.parse([]) == cli_args.CliOptions()


def test_every_option():
    options = cli_args.parse(["--scope", "all", "--factor", "4", "--preset", "precise", "--data-maps",
                       "skip", "--save", "--json", "out.json", "--quiet"])
    assert options == cli_args.CliOptions(scope="ALL_MATERIALS", factor=4, preset="precise",
                                   data_maps="SKIP", save=True, json_path="out.json", quiet=True)
    assert cli_args.parse(["--scope", "ACTIVE_MATERIAL"]).scope == "ACTIVE_MATERIAL"
    assert cli_args.parse(["--scope=active"]).scope == "ACTIVE_MATERIAL"


@pytest.mark.parametrize("argv", [
    ["--factor", "9"], ["--factor", "two"], ["--scope", "world"], ["--preset", "wild"],
    ["--bogus"], ["--fac", "2"],
])
def test_bad_arguments_are_usage_errors_not_exits(argv):
    with pytest.raises(cli_args.CliUsage) as info:
        cli_args.parse(argv)
    assert info.value.code == 2
    assert "usage:" in str(info.value) and "error:" in str(info.value)


def test_help_is_reported_with_code_zero():
    with pytest.raises(cli_args.CliUsage) as info:
        cli_args.parse(["--help"])
    assert info.value.code == 0
    assert "--scope" in str(info.value) and "Exit code" in str(info.value)
