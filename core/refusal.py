"""A request the add-on refuses before anything is uploaded or spent."""


class Refusal(Exception):
    """Its message says what is wrong and what to do; nothing was changed or charged."""


MIN_SIDE = 16  # px: below this there is nothing for the model to work with


def check_min_side(what: str, width: int, height: int) -> None:
    """Refuses an image (or a tile: ``what`` names it) too small to upscale."""
    if width < MIN_SIDE or height < MIN_SIDE:
        raise Refusal(f"{what} is {width}×{height} px: too small to upscale "
                      f"(at least {MIN_SIDE}×{MIN_SIDE} px).")
