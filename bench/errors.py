"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2, no traceback.

    The message says what is wrong, where, and what to do.
    """
