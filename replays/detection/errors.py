class InvalidSegment(Exception):
    """A recording message that can never be processed as it is: it goes to the dead-letter topic.

    The message says what is wrong, for the operator who reads the dead-letter topic's headers.
    """
