"""A request the add-on refuses before anything is uploaded or spent."""


class Refusal(Exception):
    """Its message says what is wrong and what to do; nothing was changed or charged."""
