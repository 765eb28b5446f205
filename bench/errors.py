"""The exception type for mistakes a user can fix (a failure as one line is `bench.text.error_line`)."""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2, no traceback.

    The message says what is wrong, where, and what to do.
    """
